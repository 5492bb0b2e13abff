import { createServer, type Server } from 'node:http';
import { createYoga, type YogaServerInstance } from 'graphql-yoga';
import type { Logger } from 'pino';
import type { CacheStore } from '../lib/cache/cacheStore.ts';
import { createCacheStore } from '../lib/cache/createCacheStore.ts';
import { FallbackCache } from '../lib/cache/fallbackCache.ts';
import type { Config } from '../lib/config.ts';
import { drainHttpServer } from '../lib/drainHttpServer.ts';
import { listenHttp } from '../lib/listenHttp.ts';
import { useHealthEndpoints } from '../lib/useHealthEndpoints.ts';
import { upstreamState } from '../lib/upstream.ts';
import { createUpstreamMetrics } from '../lib/upstreamMetrics.ts';
import { yogaLogger } from '../lib/yogaLogger.ts';
import { componentLogger } from '../lib/logger.ts';
import { SUPERGRAPH_NAMES, type SupergraphName } from '../lib/topology.ts';
import { createApiKeyResolver } from './apiKeyResolver.ts';
import { createGatewayClient, type GatewayClient } from './gatewayClient.ts';
import { GatewayFallback } from './gatewayFallback.ts';
import { createGatewayReadiness } from './gatewayReadiness.ts';
import { loadApiSchema } from './loadApiSchema.ts';
import { useAuth } from './plugins/useAuth.ts';
import { useErrorCodes } from './plugins/useErrorCodes.ts';
import { useMaxDepth } from './plugins/useMaxDepth.ts';
import { useInternalEndpoints } from './plugins/useInternalEndpoints.ts';
import { useOperationRouting } from './plugins/useOperationRouting.ts';
import { useResponseCache } from './plugins/useResponseCache.ts';
import type { RouterContext } from './routerContext.ts';
import { buildRoutingTable, type RoutingTable } from './routingTable.ts';
import { demoGraphiQLOptions } from './demoGraphiQLOptions.ts';
import { useEndpointIndex } from './plugins/useEndpointIndex.ts';
import { useOfflineGraphiQL } from './plugins/useOfflineGraphiQL.ts';

export interface RouterOptions {
  config: Config;
  /** Signs the principal forwarded to gateways. */
  internalSecret: string;
  /** Folder of the composed `<name>.supergraph.graphql` files. @default the repository's schema/ */
  schemaDir?: string;
  /** Gateway clients by supergraph, e.g. fakes in tests; the router does not close injected ones. @default round-robin clients over config.router.gatewayUrls */
  gateways?: Partial<Record<SupergraphName, GatewayClient>>;
  /** Shared cache for fallbacks and fresh responses; the router does not close an injected one. @default Redis at config.cache.redisUrl, else in-memory */
  cacheStore?: CacheStore;
  /** How long close() waits for in-flight requests before cutting connections. @default 10000 */
  drainTimeoutMs?: number;
  /** @default componentLogger('router') */
  logger?: Logger;
}

export interface Router {
  /** The yoga instance; `yoga.fetch(...)` serves requests in-process without a port. */
  yoga: YogaServerInstance<Record<string, never>, RouterContext>;
  routingTable: RoutingTable;
  /** Starts the HTTP server; `port: 0` picks a free port. */
  listen(port: number, host?: string): Promise<{ url: string; port: number }>;
  /** Stops accepting, drains in-flight requests, closes gateway connections; idempotent. */
  close(): Promise<void>;
}

/** The client-facing edge router: one GraphQL endpoint in front of every supergraph gateway. */
export function createRouter(options: RouterOptions): Router {
  const { config, internalSecret, schemaDir, drainTimeoutMs = 10_000 } = options;
  const log = options.logger ?? componentLogger('router');
  const routingTable = buildRoutingTable(
    Object.fromEntries(SUPERGRAPH_NAMES.map((name) => [name, loadApiSchema(name, schemaDir)])),
  );

  const owned: Array<ReturnType<typeof createGatewayClient>> = [];
  const gateways = Object.fromEntries(
    SUPERGRAPH_NAMES.map((name) => {
      const injected = options.gateways?.[name];
      if (injected) return [name, injected];
      const client = createGatewayClient({
        supergraph: name,
        urls: config.router.gatewayUrls[name],
        resilience: config.resilience,
        attemptTimeoutMs: config.router.gatewayTimeoutMs,
      });
      owned.push(client);
      return [name, client];
    }),
  ) as Record<SupergraphName, GatewayClient>;

  const upstreams = () => Object.fromEntries(owned.map((client) => [client.supergraph, client.upstream]));
  const metrics = createUpstreamMetrics('router', upstreams);
  const cacheStore = options.cacheStore ?? createCacheStore(config.cache, log);
  let draining = false;
  const gatewayReadiness = createGatewayReadiness({ gateways, internalSecret });
  const yoga = createYoga<Record<string, never>, RouterContext>({
    schema: routingTable.schema,
    graphqlEndpoint: '/graphql',
    graphiql: false, // yoga's own loads from a CDN; useOfflineGraphiQL serves it from here
    landingPage: false,
    maskedErrors: true,
    maxRequestBodySize: config.router.maxBodyBytes,
    logging: yogaLogger(log),
    plugins: [
      useEndpointIndex({ transports: ['http', 'sse'], browserLocation: config.router.graphiql ? '/graphql' : undefined }),
      ...(config.router.graphiql
        ? [
            useOfflineGraphiQL({
              graphiql: {
                title: 'Supergraph router',
                ...(config.router.graphiqlDemo && config.demoApiKey ? demoGraphiQLOptions(config.demoApiKey) : {}),
              },
            }),
          ]
        : []),
      useHealthEndpoints({
        // A draining router reports not ready so balancers move on before its connections close.
        readiness: async () => (draining ? { ready: false, status: 'draining' } : gatewayReadiness()),
      }),
      useInternalEndpoints({
        state: () => ({ component: 'router', gateways: upstreamState(upstreams()) }),
        metrics: metrics.registry,
      }),
      useErrorCodes(),
      useMaxDepth({ maxDepth: config.router.maxDepth }),
      useAuth({
        resolver: createApiKeyResolver({
          identity: gateways.identity,
          internalSecret,
          ttlMs: config.router.authCacheTtlMs,
          staleIfErrorMs: config.router.authStaleIfErrorMs,
          timeoutMs: config.router.gatewayTimeoutMs,
          logger: log,
        }),
      }),
      useResponseCache({
        store: cacheStore,
        ttlSeconds: config.cache.responseTtlSeconds,
        mutationInvalidates: config.cache.mutationInvalidates,
        schema: routingTable.schema,
      }),
      useOperationRouting({
        routingTable,
        gateways,
        internalSecret,
        gatewayTimeoutMs: config.router.gatewayTimeoutMs,
        logger: log,
        fallback: new GatewayFallback({
          cache: new FallbackCache(cacheStore, config.cache.fallbackTtlSeconds),
          policies: config.fallback.supergraphs,
          publicRootFields: new Set(config.fallback.publicRootFields),
          onFailure: (supergraph, answer) => metrics.countFailure(supergraph, answer),
        }),
      }),
    ],
  });

  let server: Server | undefined;
  let closing: Promise<void> | undefined;
  return {
    yoga,
    routingTable,
    async listen(port, host = config.host) {
      if (server) throw new Error('router is already listening');
      if (closing) throw new Error('router is closed');
      server = createServer(yoga);
      return listenHttp(server, port, host);
    },
    close() {
      closing ??= (async () => {
        draining = true;
        if (server?.listening) await drainHttpServer(server, { graceMs: drainTimeoutMs });
        await yoga.dispose();
        await Promise.all(owned.map((client) => client.close()));
        if (!options.cacheStore) await cacheStore.close();
      })();
      return closing;
    },
  };
}
