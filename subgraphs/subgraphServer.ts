import { readFileSync } from 'node:fs';
import { buildSubgraphSchema } from '@apollo/subgraph';
import { execute, parse, subscribe } from 'graphql';
import { sql } from 'kysely';
import { loadConfig, type Config } from '../lib/config.ts';
import type { ServerConfig } from '../lib/config/serverConfig.ts';
import { componentLogger } from '../lib/logger.ts';
import { createRequestTelemetry } from '../lib/observability/requestTelemetry.ts';
import { createComponentServer, type ComponentServer } from '../lib/server/createComponentServer.ts';
import { createGraphQLRunner } from '../lib/server/createGraphQLRunner.ts';
import { refusedWith } from '../lib/server/graphqlEndpoint.ts';
import { createRouterSignature } from '../lib/server/routerSignature.ts';
import { maskSubgraphError } from './maskSubgraphError.ts';
import type { Store } from './store/openDatabase.ts';
import { enforceStringArgumentLimits } from './stringArgumentLimits.ts';
import { SUBGRAPH_CATALOG } from './subgraphCatalog.ts';
import { createSubgraphContext } from './subgraphContext.ts';
import type { SubgraphName } from './subgraphNames.ts';
import { withStreamEventId } from './streamEventIds.ts';

export interface SubgraphServerOptions {
  name: SubgraphName;
  store: Store;
  /** Verifies the principal the router signs; unsigned or forged GraphQL requests get 401. */
  internalSecret: string;
  /** Settings of subgraphs with a runtime (chat: generator pace, backend, Redis). @default loadConfig({}) (all defaults) */
  config?: Config;
  /** What the server enforces on requests (body size, JSON nesting). @default config.server */
  limits?: Pick<ServerConfig, 'maxJsonDepth' | 'maxDocumentNesting' | 'maxExtensionsBytes' | 'internalMaxBodyBytes'>;
  /** During a rotation, the secret being replaced: signatures made with it are still accepted. */
  internalSecretPrevious?: string;
}

export interface StartSubgraphOptions extends SubgraphServerOptions {
  /** Address to bind. @default "127.0.0.1" */
  host?: string;
  /** Port to listen on; 0 picks a free one (read it back from the result). */
  port: number;
  /** Demo API key the auth subgraph registers for the demo user at start. */
  demoApiKey?: string;
  /** Second demo key, of a seeded FREE-plan user, registered the same way. */
  demoFreeApiKey?: string;
  /** How long close() lets in-flight requests finish before cutting connections. @default 10000 */
  drainGraceMs?: number;
}

/** One subgraph's server, before it listens: `fetch` serves in-process tests. */
export interface SubgraphServer extends Pick<ComponentServer, 'fetch'> {
  server: ComponentServer;
  /** The subgraph's runtime (see SubgraphDefinition.createRuntime), e.g. for tests to look at a generator. */
  runtime?: unknown;
  /** Stops the server and the runtime; idempotent. Does not close the store. */
  close(graceMs?: number): Promise<void>;
}

export interface RunningSubgraph {
  /** GraphQL endpoint, e.g. http://127.0.0.1:4131/graphql */
  url: string;
  /** The port actually bound (useful with port 0). */
  port: number;
  runtime?: unknown;
  /** Stops accepting, drains in-flight requests, closes sockets; idempotent. Does not close the store. */
  close(): Promise<void>;
}

/**
 * One subgraph on the shared component server: its schema (string arguments bounded), a context
 * per request from the router-signed principal, graphql-js to execute and subscribe (subscriptions
 * over SSE, the way the gateway opens them, each event with its id), store errors the input caused
 * reported as BAD_USER_INPUT, and `_service { sdl }` open to unsigned callers for
 * `rover subgraph introspect`.
 */
export function createSubgraphServer(options: SubgraphServerOptions): SubgraphServer {
  const { name, store, internalSecret, internalSecretPrevious, config = loadConfig({}), limits = config.server } = options;
  const internalSecrets = internalSecretPrevious ? [internalSecret, internalSecretPrevious] : [internalSecret];
  const definition = SUBGRAPH_CATALOG[name];
  const log = componentLogger(`subgraph-${name}`);
  const schema = enforceStringArgumentLimits(
    buildSubgraphSchema([{ typeDefs: parse(readFileSync(definition.typeDefs, 'utf8')), resolvers: definition.resolvers as never }]),
  );
  const runtime = definition.createRuntime?.({ db: store.db, config, logger: log });
  const signature = createRouterSignature({ secrets: internalSecrets, openRootFields: ['_service'] });
  const run = createGraphQLRunner({
    schema: () => schema,
    context: ({ exchange }) => createSubgraphContext(exchange, { db: store.db, internalSecrets, createLoaders: definition.createLoaders, runtime }),
    execute,
    subscribe,
    maskError: maskSubgraphError,
    onEvent: withStreamEventId,
    logger: log,
  });
  const server = createComponentServer({
    logger: log,
    maxBodyBytes: limits.internalMaxBodyBytes,
    nesting: { maxDepth: limits.maxJsonDepth, maxExtensionsBytes: limits.maxExtensionsBytes, maxDocumentNesting: limits.maxDocumentNesting },
    // One log line per request, with the trace id the gateway's traceparent carried.
    telemetry: createRequestTelemetry({ logger: log }),
    graphql: {
      screen: (exchange) => signature.screen(exchange),
      run: async (request) => {
        const unsigned = signature.check(request.exchange, request.params);
        return unsigned ? refusedWith(unsigned) : run(request);
      },
    },
    readiness: async () => {
      try {
        await sql`select 1`.execute(store.db);
        return { ready: true };
      } catch (error) {
        log.warn({ err: error }, 'readiness check failed: store unreachable');
        return { ready: false };
      }
    },
  });
  let closing: Promise<void> | undefined;
  return {
    server,
    runtime,
    fetch: (url, init) => server.fetch(url, init),
    close: (graceMs = 10_000) =>
      (closing ??= (async () => {
        await server.close(graceMs);
        await (runtime as { close?(): Promise<void> } | undefined)?.close?.();
      })()),
  };
}

/** Serves one subgraph over HTTP/1.1 and HTTP/2 at `/graphql` (router-signed requests only), with open `/healthz` and `/readyz`. */
export async function startSubgraph(options: StartSubgraphOptions): Promise<RunningSubgraph> {
  const { name, store, host = '127.0.0.1', port, demoApiKey, demoFreeApiKey, drainGraceMs = 10_000 } = options;
  await SUBGRAPH_CATALOG[name].onStart?.({ db: store.db, demoApiKey, demoFreeApiKey });
  const subgraph = createSubgraphServer(options);
  const bound = await subgraph.server.listen(port, host);
  return { url: bound.url, port: bound.port, runtime: subgraph.runtime, close: () => subgraph.close(drainGraceMs) };
}
