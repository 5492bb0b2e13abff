import { z } from 'zod';

/** `true`/`false` from a config file, or `true`, `false`, `1`, `0` from an environment variable. */
const flag = z.preprocess(
  (value) => (typeof value === 'string' ? ({ true: true, '1': true, false: false, '0': false } as Record<string, boolean>)[value.trim().toLowerCase()] ?? value : value),
  z.boolean({ invalid_type_error: 'must be true or false' }),
);

/** The router's GraphiQL settings (config section `router`). */
export const graphiqlConfigSchema = {
  /** GraphiQL for browsers on the GraphQL path, served offline from the router. @default true (false when NODE_ENV=production) */
  graphiql: flag.default(true),
  /**
   * Open GraphiQL with the demo API key in its headers and tabs of example operations, when
   * `demoApiKey` is set. The page hands the key to whoever loads it, hence off in production.
   * @default true (false when NODE_ENV=production)
   */
  graphiqlDemo: flag.default(true),
};

/** Environment variables of the section, where their values sit in `router`. */
export function graphiqlConfigFromEnv(env: NodeJS.ProcessEnv): Record<string, string | undefined> {
  return { graphiql: env.GRAPHIQL, graphiqlDemo: env.GRAPHIQL_DEMO };
}

/**
 * Defaults that depend on NODE_ENV, applied under the config file and the environment: a production
 * router shows no GraphiQL (and never the demo key) unless someone turns it on.
 */
export function graphiqlEnvironmentDefaults(env: NodeJS.ProcessEnv): Record<string, unknown> {
  return env.NODE_ENV === 'production' ? { router: { graphiql: false, graphiqlDemo: false } } : {};
}
