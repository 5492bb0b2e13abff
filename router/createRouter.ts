import { createServer, type Server } from 'node:http';
import { parse } from 'graphql';
import { createYoga, type YogaServerInstance } from 'graphql-yoga';
import type { Logger } from 'pino';
import type { CacheStore } from '../lib/cache/cacheStore.ts';
import { createCacheStore } from '../lib/cache/createCacheStore.ts';
import { readCacheHints } from '../lib/fallback/cacheHints.ts';
import { readIdempotentWrites } from '../lib/upstream/idempotentWrites.ts';
import { FallbackCache } from '../lib/fallback/fallbackCache.ts';
import { StaleIfError } from '../lib/fallback/staleIfError.ts';
import { maskUnexpectedError } from '../lib/server/maskUnexpectedError.ts';
import type { Config } from '../lib/config.ts';
import { drainHttpServer } from '../lib/server/drainHttpServer.ts';
import { createAdminServer } from '../lib/server/createAdminServer.ts';
import { createRequestListener } from '../lib/server/createRequestListener.ts';
import { listenHttp } from '../lib/server/listenHttp.ts';
import { useRequestDecompression } from '../lib/server/useRequestDecompression.ts';
import { useBodySizeLimit } from '../lib/server/useBodySizeLimit.ts';
import { useNestingLimits } from '../lib/server/useNestingLimits.ts';
import { useHealthEndpoints } from '../lib/server/useHealthEndpoints.ts';
import { upstreamState } from '../lib/upstream/createUpstream.ts';
import { createUpstreamMetrics } from '../lib/upstream/upstreamMetrics.ts';
import { yogaLogger } from '../lib/server/yogaLogger.ts';
import { componentLogger } from '../lib/logger.ts';
import { readSupergraphSdl, supergraphSourceOf, type SupergraphName } from '../lib/topology/loadTopology.ts';
import { NO_API_KEYS, createApiKeyResolver } from './apiKeyResolver.ts';
import { createApiKeyRevocations } from './apiKeyRevocations.ts';
import { browserPlugins } from './browser/browserPlugins.ts';
import { corsPolicy } from './browser/corsPolicy.ts';
import { createGatewayClients, type GatewayClient } from './gatewayClient.ts';
import { createGatewayReadiness } from './gatewayReadiness.ts';
import { attachGraphQLWs, type GraphQLWsServer } from './graphqlWsServer.ts';
import { supergraphFromSdl } from './loadApiSchema.ts';
import { readCostDirectives } from './operationLimits/costDirectives.ts';
import { loadTrustedDocuments } from './persistedOperations/trustedDocuments.ts';
import { useApiKeyRevocation } from './plugins/useApiKeyRevocation.ts';
import { useAuth } from './plugins/useAuth.ts';
import { useAutomaticPersistedQueries } from './plugins/useAutomaticPersistedQueries.ts';
import { useErrorCodes } from './plugins/useErrorCodes.ts';
import { useMaxDepth } from './plugins/useMaxDepth.ts';
import { useSseEventIds } from '../lib/server/useSseEventIds.ts';
import { useOperationLimits } from './plugins/useOperationLimits.ts';
import { useOperationRouting } from './plugins/useOperationRouting.ts';
import { useRateLimit } from './plugins/useRateLimit.ts';
import { useResponseCache } from './plugins/useResponseCache.ts';
import { useRetryAfter } from './plugins/useRetryAfter.ts';
import { useTrustedDocuments } from './plugins/useTrustedDocuments.ts';
import { createRouterRateLimiter } from './rateLimit/createRouterRateLimiter.ts';
import { createAdmission } from './rateLimit/admitRequest.ts';
import { createCallerIdentifier } from './rateLimit/identifyCaller.ts';
import { createRateLimitMetrics } from './rateLimit/rateLimitMetrics.ts';
import type { RateLimiter } from './rateLimit/rateLimiter.ts';
import { addressOf } from './rateLimit/clientAddress.ts';
import { createRoutedSubscribe } from './routedSubscribe.ts';
import { createRouterDrain } from './routerDrain.ts';
import type { RouterContext } from './routerContext.ts';
import { buildRoutingTable, type RoutingTable } from './routingTable.ts';
import { createStreamLimiter } from './streamLimiter.ts';
import { demoGraphiQLOptions } from './demoGraphiQLOptions.ts';
import { useChatPage } from './plugins/useChatPage.ts';
import { useOperatorSnapshot } from './plugins/useOperatorSnapshot.ts';
import { operatorSnapshot } from './operatorSnapshot.ts';
import { useEndpointIndex } from './plugins/useEndpointIndex.ts';
import { useOfflineGraphiQL } from './plugins/useOfflineGraphiQL.ts';
import { meteredCacheStore } from '../lib/observability/meteredCacheStore.ts';
import { createRouterTelemetry } from './observability/routerTelemetry.ts';
import { loadObservabilityConfig } from '../lib/config/observabilityConfig.ts';
import { createReloadableRouting, type LoadedSupergraphs } from './reloadableRoutingTable.ts';

export interface RouterOptions {
  config: Config;
  /** Signs the principal forwarded to gateways. */
  internalSecret: string;
  /** Gateway clients by supergraph, e.g. fakes in tests; the router does not close injected ones. @default round-robin clients over config.router.gatewayUrls */
  gateways?: Partial<Record<SupergraphName, GatewayClient>>;
  /** Shared cache for fallbacks and fresh responses; the router does not close an injected one. @default Redis at config.cache.redisUrl, else in-memory */
  cacheStore?: CacheStore;
  /** Rate limiter, e.g. one on a test clock; the router does not close an injected one. @default Redis at config.cache.redisUrl, else in-memory */
  rateLimiter?: RateLimiter;
  /** How long close() waits for in-flight requests before cutting connections. @default 10000 */
  drainTimeoutMs?: number;
  /** @default componentLogger('router') */
  logger?: Logger;
}

export interface Router {
  /** The yoga instance; `yoga.fetch(...)` serves requests in-process without a port. */
  yoga: YogaServerInstance<Record<string, never>, RouterContext>;
  routingTable: RoutingTable;
  /** Loads changed supergraph files now (hot reload does it every interval): tests, and operators' scripts. */
  reloadSupergraphs(): Promise<void>;
  /** Starts the HTTP server; `port: 0` picks a free port. */
  listen(port: number, host?: string): Promise<{ url: string; port: number }>;
  /** Starts the admin listener (`/internal/state`, `/metrics`); `port: 0` picks a free port. @default host config.server.adminHost */
  listenAdmin(port: number, host?: string): Promise<{ url: string; port: number }>;
  /** Stops accepting, drains in-flight requests, closes gateway connections; idempotent. */
  close(): Promise<void>;
}

/** The client-facing edge router: one GraphQL endpoint in front of every supergraph gateway. */
export function createRouter(options: RouterOptions): Router {
  const { config, internalSecret, drainTimeoutMs = 10_000 } = options;
  const log = options.logger ?? componentLogger('router');
  const names = Object.keys(config.topology.supergraphs);
  const supergraphs = names.map((name) => [name, supergraphFromSdl(name, readSupergraphSdl(config.topology, name))] as const);
  const routingTable = buildRoutingTable(
    Object.fromEntries(supergraphs.map(([name, loaded]) => [name, loaded.apiSchema])),
    readCacheHints(...supergraphs.map(([, loaded]) => loaded.sdl)),
    readIdempotentWrites(...supergraphs.map(([, loaded]) => loaded.sdl)),
  );

  // Clients the router made (not injected ones) are the router's to close, and their pools its to report.
  const { gateways, owned } = createGatewayClients(config, options.gateways);

  const upstreams = () => Object.fromEntries(owned.map((client) => [client.supergraph, client.upstream]));
  const metrics = createUpstreamMetrics('router', upstreams);
  const cacheStore = meteredCacheStore(options.cacheStore ?? createCacheStore(config.cache, log), metrics.registry);
  const telemetry = createRouterTelemetry({ registry: metrics.registry, logger: log, redisUrl: config.cache.redisUrl });
  const edge = config.edge;
  // Auth is a setting of the topology: the supergraph that resolves API keys, or none (all anonymous).
  const keysFrom = config.topology.apiKeysSupergraph;
  const resolver = !keysFrom ? NO_API_KEYS : createApiKeyResolver({
    identity: gateways[keysFrom],
    internalSecret,
    // Without Redis no revocation reaches the other routers: the TTL is their only bound.
    ttlMs: config.router.authCacheTtlMs ?? (config.cache.redisUrl ? 30_000 : 5_000),
    staleIfErrorMs: config.router.authStaleIfErrorMs,
    timeoutMs: config.router.gatewayTimeoutMs,
    logger: log,
  });
  const revocations = createApiKeyRevocations({ resolver, redisUrl: config.cache.redisUrl, logger: log });
  const rateLimitMetrics = createRateLimitMetrics(metrics.registry);
  const rateLimiter = edge.rateLimit.enabled ? (options.rateLimiter ?? createRouterRateLimiter({ config, logger: log })) : undefined;
  const admit = rateLimiter
    ? createAdmission({ limiter: rateLimiter, identify: createCallerIdentifier({ resolver, ...edge.rateLimit }), metrics: rateLimitMetrics, logger: log })
    : undefined;
  const streams = createStreamLimiter(config.router.maxStreamsPerCaller);
  const nesting = {
    maxDepth: config.server.maxJsonDepth,
    maxExtensionsBytes: config.server.maxExtensionsBytes,
    maxDocumentNesting: config.server.maxDocumentNesting,
  };
  // Balancer-facing shutdown (not ready, a notice, streams ended): router/routerDrain.ts.
  const drain = createRouterDrain({ noticeMs: config.router.drainNoticeMs });
  const gatewayReadiness = createGatewayReadiness({ gateways, internalSecret });
  // One yoga per routing table: hot reload builds a new one over the new table (reloadableRoutingTable.ts).
  const buildYoga = (routingTable: RoutingTable, supergraphs: LoadedSupergraphs) => createYoga<Record<string, never>, RouterContext>({
    schema: routingTable.schema,
    graphqlEndpoint: '/graphql',
    graphiql: false, // yoga's own loads from a CDN; useOfflineGraphiQL serves it from here
    cors: corsPolicy(edge.browser),
    landingPage: false,
    // No file uploads in any schema: a multipart body (whose malformed parts yoga reported as a 200) is a 415.
    multipart: false,
    maskedErrors: { isDev: false, maskError: maskUnexpectedError },
    maxRequestBodySize: false, // useBodySizeLimit: the same bound without a stream per request
    // The Guild's clients send a trusted document's id as `documentId`.
    extraParamNames: edge.persistedQueries.trustedDocuments !== 'off' ? ['documentId'] : [],
    logging: yogaLogger(log),
    plugins: [
      // First: the body is decoded and its JSON bounded before any other plugin reads it.
      useBodySizeLimit({ maxBytes: config.router.maxBodyBytes }),
      useRequestDecompression({ maxBytes: config.router.maxBodyBytes }),
      useNestingLimits(nesting),
      // Before any refusal, so refused requests are measured and logged too.
      telemetry.plugin,
      ...browserPlugins(edge.browser),
      // Browsers at `/` get the chat page (useEndpointIndex then answers everyone else, or sends browsers to GraphiQL).
      config.router.chatPage && useChatPage({ graphiql: config.router.graphiql }),
      config.router.opsPanel === 'loopback' && useOperatorSnapshot({ snapshot: () => operatorSnapshot(upstreams(), metrics.registry) }),
      useEndpointIndex({ transports: ['http', 'sse', 'graphql-ws'], browserLocation: config.router.graphiql ? '/graphql' : undefined }),
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
        readiness: async () => {
          drain.probed();
          return drain.draining ? { ready: false, status: 'draining' } : gatewayReadiness();
        },
      }),
      useErrorCodes(),
      useRetryAfter(),
      // The edge, cheapest refusals first: rate limit, persisted operations, operation limits.
      admit ? useRateLimit({ admit }) : {},
      edge.persistedQueries.trustedDocuments !== 'off' &&
        useTrustedDocuments({
          documents: loadTrustedDocuments(edge.persistedQueries.manifestPath!),
          mode: edge.persistedQueries.trustedDocuments,
          requireId: edge.persistedQueries.requireId,
          logger: log,
        }),
      edge.persistedQueries.apqEnabled && useAutomaticPersistedQueries({ store: cacheStore, ttlSeconds: edge.persistedQueries.apqTtlSeconds }),
      useOperationLimits({
        schema: routingTable.schema,
        limits: edge.operationLimits,
        // The API schemas drop @cost/@listSize; the composed SDLs keep them.
        costDirectives: readCostDirectives(supergraphs.map(([, loaded]) => parse(loaded.sdl, { noLocation: true }))),
      }),
      useMaxDepth({ maxDepth: config.router.maxDepth }),
      ...(keysFrom ? [useAuth({ resolver })] : []),
      useApiKeyRevocation({ revocations }),
      ...(config.cache.responseCache === 'on'
        ? [useResponseCache({ store: cacheStore, routingTable, mutationInvalidates: config.cache.mutationInvalidates })]
        : []),
      useSseEventIds({ leaving: drain.leaving }),
      useOperationRouting({
        routingTable,
        gateways,
        internalSecret,
        subscribe: createRoutedSubscribe({
          routingTable,
          gateways,
          internalSecret,
          streams,
          leaving: drain.leaving,
          callerOf: (context) => (context.principal?.userId ? `user:${context.principal.userId}` : `address:${addressOf(context, edge.rateLimit.trustedProxyHops)}`),
          logger: log,
        }),
        gatewayTimeoutMs: config.router.gatewayTimeoutMs,
        callMetrics: telemetry.gatewayCalls,
        logger: log,
        staleIfError: new StaleIfError({
          cache: new FallbackCache(cacheStore, config.cache.fallbackTtlSeconds),
          namespace: 'gateway',
          policyOf: (supergraph) => config.fallback.supergraphs[supergraph as SupergraphName] ?? 'none',
          onAnswer: (supergraph, answer) => metrics.countFailure(supergraph, answer),
        }),
      }),
    ],
  });

  const observability = loadObservabilityConfig();
  const routing = createReloadableRouting({
    routingTable,
    supergraphs,
    buildYoga,
    sources: observability.hotReload === 'on' ? Object.fromEntries(names.map((name) => [name, supergraphSourceOf(config.topology, name)])) : undefined,
    intervalMs: observability.hotReloadIntervalMs,
    registry: metrics.registry,
    logger: log,
  });

  const admin = createAdminServer({
    state: () => ({ component: 'router', gateways: upstreamState(upstreams()) }),
    metrics: metrics.registry,
    logger: log,
  });
  let server: Server | undefined;
  let webSockets: GraphQLWsServer | undefined;
  let closing: Promise<void> | undefined;
  return {
    get yoga() {
      return routing.yoga;
    },
    get routingTable() {
      return routing.routingTable;
    },
    reloadSupergraphs: () => routing.check(),
    async listen(port, host = config.host) {
      if (server) throw new Error('router is already listening');
      if (closing) throw new Error('router is closed');
      server = createServer(createRequestListener(routing.handler, log));
      // Longer than a balancer keeps idle connections (HAProxy purges its pool within 5 s), so the
      // balancer never sends a request over a connection the router is closing; as the gateways do.
      server.keepAliveTimeout = 65_000;
      // Above keepAliveTimeout, or Node may drop a socket while a request's headers are arriving.
      server.headersTimeout = 66_000;
      webSockets = attachGraphQLWs(server, routing.handler, {
        maxPayloadBytes: config.router.maxBodyBytes,
        admit: admit && (async (request, address) => (await admit(request, address)).refusal),
        nesting,
        logger: log,
      });
      return listenHttp(server, port, host);
    },
    listenAdmin(port, host = config.server.adminHost) {
      if (closing) throw new Error('router is closed');
      return admin.listen(port, host);
    },
    close() {
      closing ??= (async () => {
        // Not ready, then (when a balancer watches) the notice, then streams end: only then close.
        await drain.begin();
        await webSockets?.close();
        await admin.close();
        if (server?.listening) await drainHttpServer(server, { graceMs: drainTimeoutMs });
        await routing.close();
        await Promise.all(owned.map((client) => client.close()));
        if (!options.cacheStore) await cacheStore.close();
        await telemetry.close();
        if (!options.rateLimiter) await rateLimiter?.close();
        await revocations.close();
      })();
      return closing;
    },
  };
}
