import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { buildSubgraphSchema } from '@apollo/subgraph';
import { parse } from 'graphql';
import { createYoga, type YogaServerInstance } from 'graphql-yoga';
import { sql } from 'kysely';
import { loadConfig, type Config } from '../lib/config.ts';
import type { ServerConfig } from '../lib/config/serverConfig.ts';
import { createRequestListener } from '../lib/server/createRequestListener.ts';
import { drainHttpServer } from '../lib/server/drainHttpServer.ts';
import { useRequestDecompression } from '../lib/server/useRequestDecompression.ts';
import { useBodySizeLimit } from '../lib/server/useBodySizeLimit.ts';
import { useNestingLimits } from '../lib/server/useNestingLimits.ts';
import { useHealthEndpoints } from '../lib/server/useHealthEndpoints.ts';
import { useRouterSignature } from '../lib/server/useRouterSignature.ts';
import { listenHttp } from '../lib/server/listenHttp.ts';
import { componentLogger } from '../lib/logger.ts';
import type { Store } from './store/openDatabase.ts';
import { SubgraphName } from './subgraphNames.ts';
import { useSseEventIds } from '../lib/server/useSseEventIds.ts';
import { yogaLogger } from '../lib/server/yogaLogger.ts';
import { maskSubgraphError } from './maskSubgraphError.ts';
import { enforceStringArgumentLimits } from './stringArgumentLimits.ts';
import { createSubgraphContext, type SubgraphContext } from './subgraphContext.ts';
import { SUBGRAPH_CATALOG } from './subgraphCatalog.ts';
import { useStreamEventIds } from './useStreamEventIds.ts';
import { useRequestTelemetry } from '../lib/observability/useRequestTelemetry.ts';


export interface SubgraphYogaOptions {
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

export interface StartSubgraphOptions extends SubgraphYogaOptions {
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

export interface RunningSubgraph {
  /** GraphQL endpoint, e.g. http://127.0.0.1:4131/graphql */
  url: string;
  /** The port actually bound (useful with port 0). */
  port: number;
  /** The subgraph's runtime (see SubgraphDefinition.createRuntime), e.g. for tests to look at a generator. */
  runtime?: unknown;
  /** Stops accepting, drains in-flight requests, closes sockets; idempotent. Does not close the store. */
  close(): Promise<void>;
}

/** Keep-alive longer than typical proxy/gateway idle timeouts (60 s), so the client closes first. */
const KEEP_ALIVE_TIMEOUT_MS = 65_000;

/**
 * The yoga instance of one subgraph, without a server: for in-process tests (`yoga.fetch`). Its
 * runtime, if the subgraph has one, is closed by `yoga.dispose()`. Subscriptions are served over SSE
 * (a POST with `accept: text/event-stream`), the way the gateway opens them.
 */
export function createSubgraphYoga(options: SubgraphYogaOptions): YogaServerInstance<Record<string, unknown>, SubgraphContext> {
  return buildSubgraphYoga(options).yoga;
}

function buildSubgraphYoga(options: SubgraphYogaOptions) {
  const { name, store, internalSecret, internalSecretPrevious, config = loadConfig({}), limits = config.server } = options;
  const internalSecrets = internalSecretPrevious ? [internalSecret, internalSecretPrevious] : [internalSecret];
  const definition = SUBGRAPH_CATALOG[name];
  const log = componentLogger(`subgraph-${name}`);
  const schema = enforceStringArgumentLimits(
    buildSubgraphSchema([{ typeDefs: parse(readFileSync(definition.typeDefs, 'utf8')), resolvers: definition.resolvers as never }]),
  );
  const runtime = definition.createRuntime?.({ db: store.db, config, logger: log });
  const yoga = createYoga<Record<string, unknown>, SubgraphContext>({
    schema,
    graphqlEndpoint: '/graphql',
    context: ({ request }) =>
      createSubgraphContext(request, { db: store.db, internalSecrets, createLoaders: definition.createLoaders, runtime }),
    // isDev false: even with NODE_ENV=development, unexpected errors never carry their original message.
    maskedErrors: { isDev: false, maskError: maskSubgraphError },
    maxRequestBodySize: false, // useBodySizeLimit: the same bound without a stream per request
    graphiql: false,
    landingPage: false,
    // No file uploads in any schema: a multipart body (whose malformed parts yoga reported as a 200) is a 415.
    multipart: false,
    batching: false,
    logging: yogaLogger(log),
    plugins: [
      // First: the body is decoded and its JSON bounded before any other plugin reads it.
      useBodySizeLimit({ maxBytes: limits.internalMaxBodyBytes }),
      useRequestDecompression({ maxBytes: limits.internalMaxBodyBytes }),
      useNestingLimits({
        maxDepth: limits.maxJsonDepth,
        maxExtensionsBytes: limits.maxExtensionsBytes,
        maxDocumentNesting: limits.maxDocumentNesting,
      }),
      // One log line per request, with the trace id the gateway's traceparent carried.
      useRequestTelemetry({ logger: log }),
      useSseEventIds(),
      useStreamEventIds(),
      { onDispose: () => runtime?.close() },
      useHealthEndpoints({
        readiness: async () => {
          try {
            await sql`select 1`.execute(store.db);
            return { ready: true };
          } catch (error) {
            log.warn({ err: error }, 'readiness check failed: store unreachable');
            return { ready: false };
          }
        },
      }),
      // `_service { sdl }` stays open: it is what `rover subgraph introspect` reads, and holds only the SDL.
      useRouterSignature({ secrets: internalSecrets, openRootFields: ['_service'] }),
    ],
  });
  return { yoga, runtime };
}

/** Serves one subgraph over HTTP at `/graphql` (router-signed requests only), with open `/healthz` and `/readyz`. */
export async function startSubgraph(options: StartSubgraphOptions): Promise<RunningSubgraph> {
  const { name, store, host = '127.0.0.1', port, demoApiKey, demoFreeApiKey, drainGraceMs = 10_000 } = options;
  await SUBGRAPH_CATALOG[name].onStart?.({ db: store.db, demoApiKey, demoFreeApiKey });
  const { yoga, runtime } = buildSubgraphYoga(options);
  const server = createServer(createRequestListener(yoga, componentLogger(`subgraph-${name}`)));
  server.keepAliveTimeout = KEEP_ALIVE_TIMEOUT_MS;
  // Must exceed keepAliveTimeout, or Node may drop a socket while a request header is arriving.
  server.headersTimeout = KEEP_ALIVE_TIMEOUT_MS + 1_000;

  const bound = await listenHttp(server, port, host);

  let closing: Promise<void> | undefined;
  return {
    url: bound.url,
    port: bound.port,
    runtime,
    close: () =>
      (closing ??= (async () => {
        await drainHttpServer(server, { graceMs: drainGraceMs });
        await yoga.dispose();
      })()),
  };
}
