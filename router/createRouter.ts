import type { Logger } from 'pino';
import type { CacheStore } from '../lib/cache/cacheStore.ts';
import { createCacheStore } from '../lib/cache/createCacheStore.ts';
import type { Config } from '../lib/config.ts';
import { loadObservabilityConfig } from '../lib/config/observabilityConfig.ts';
import { FallbackCache } from '../lib/fallback/fallbackCache.ts';
import { StaleIfError } from '../lib/fallback/staleIfError.ts';
import { componentLogger } from '../lib/logger.ts';
import { meteredCacheStore } from '../lib/observability/meteredCacheStore.ts';
import { createAdminServer } from '../lib/server/createAdminServer.ts';
import { createComponentServer, type ComponentServer } from '../lib/server/createComponentServer.ts';
import { readSupergraphSdl, supergraphSourceOf, type SupergraphName } from '../lib/topology/loadTopology.ts';
import { upstreamState } from '../lib/upstream/createUpstream.ts';
import { createUpstreamMetrics } from '../lib/upstream/upstreamMetrics.ts';
import { createApiKeyResolver } from './apiKeyResolver.ts';
import { createApiKeyRevocations } from './apiKeyRevocations.ts';
import { createBrowserPolicy } from './browser/browserPolicy.ts';
import { createCallerStage } from './edge/callerStage.ts';
import { defineEdge } from './edge/composeEdge.ts';
import { EdgeRequest, httpSource } from './edge/edgeRequest.ts';
import { createGatewayClients, type GatewayClient } from './gatewayClient.ts';
import { createGatewayReadiness } from './gatewayReadiness.ts';
import { createGraphQLWsServer } from './graphqlWsServer.ts';
import { createRouterTelemetry } from './observability/routerTelemetry.ts';
import { loadTrustedDocuments } from './persistedOperations/trustedDocuments.ts';
import { createRouterRateLimiter } from './rateLimit/createRouterRateLimiter.ts';
import { createRateLimitMetrics } from './rateLimit/rateLimitMetrics.ts';
import type { RateLimiter } from './rateLimit/rateLimiter.ts';
import { createReloadableRouting, routingOf } from './reloadableRoutingTable.ts';
import { createRouterDrain } from './routerDrain.ts';
import type { RoutingTable } from './routingTable.ts';
import { routerRoutes } from './routes/routerRoutes.ts';
import { createStreamLimiter } from './streamLimiter.ts';

export interface RouterOptions {
  config: Config;
  /** Signs the principal forwarded to gateways. */
  internalSecret: string;
  /** Gateway clients by supergraph, e.g. fakes in tests; the router does not close injected ones. @default clients over config.router.gatewayUrls */
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

export interface Router extends Pick<ComponentServer, 'fetch'> {
  routingTable: RoutingTable;
  /** Loads changed supergraph files now (hot reload does it every interval): tests, and operators' scripts. */
  reloadSupergraphs(): Promise<void>;
  /** Starts the HTTP server (and graphql-ws on its path); `port: 0` picks a free port. */
  listen(port: number, host?: string): Promise<{ url: string; port: number }>;
  /** Starts the admin listener (`/internal/state`, `/metrics`); `port: 0` picks a free port. @default host config.server.adminHost */
  listenAdmin(port: number, host?: string): Promise<{ url: string; port: number }>;
  /** Stops accepting, drains in-flight requests, closes gateway connections; idempotent. */
  close(): Promise<void>;
}

/** The client-facing edge router on the shared component server: one GraphQL endpoint in front of every supergraph gateway. */
export function createRouter(options: RouterOptions): Router {
  const { config, internalSecret, drainTimeoutMs = 10_000 } = options;
  const log = options.logger ?? componentLogger('router');
  const names = Object.keys(config.topology.supergraphs);
  const { routingTable, supergraphs } = routingOf(Object.fromEntries(names.map((name) => [name, readSupergraphSdl(config.topology, name)])));
  // Clients the router made (not injected ones) are the router's to close, and their pools its to report.
  const { gateways, owned } = createGatewayClients(config, internalSecret, options.gateways);
  const upstreams = () => Object.fromEntries(owned.map((client) => [client.supergraph, client.upstream]));
  const metrics = createUpstreamMetrics('router', upstreams);
  const cacheStore = meteredCacheStore(options.cacheStore ?? createCacheStore(config.cache, log), metrics.registry);
  const telemetry = createRouterTelemetry({ registry: metrics.registry, logger: log, redisUrl: config.cache.redisUrl });
  const { edge } = config;
  // Auth is a setting of the topology: the supergraph that resolves API keys, or none (all anonymous).
  const keysFrom = config.topology.apiKeysSupergraph;
  const resolver = keysFrom
    ? createApiKeyResolver({
        identity: gateways[keysFrom],
        // Without Redis no revocation reaches the other routers: the TTL is their only bound.
        ttlMs: config.router.authCacheTtlMs ?? (config.cache.redisUrl ? 30_000 : 5_000),
        staleIfErrorMs: config.router.authStaleIfErrorMs,
        timeoutMs: config.router.gatewayTimeoutMs,
        logger: log,
      })
    : undefined;
  const revocations = createApiKeyRevocations({ resolver: resolver ?? { forgetUser() {} }, redisUrl: config.cache.redisUrl, logger: log });
  const rateLimiter = edge.rateLimit.enabled ? (options.rateLimiter ?? createRouterRateLimiter({ config, logger: log })) : undefined;
  const browser = createBrowserPolicy(edge.browser);
  const trustedDocuments = edge.persistedQueries.trustedDocuments !== 'off' ? loadTrustedDocuments(edge.persistedQueries.manifestPath!) : undefined;
  const buildEdge = defineEdge({
    config,
    caller: createCallerStage({ resolver, ...edge.rateLimit }),
    rateLimiter,
    rateLimitMetrics: createRateLimitMetrics(metrics.registry),
    cacheStore,
    trustedDocuments,
    gateways,
    streams: createStreamLimiter(config.router.maxStreamsPerCaller),
    staleIfError: new StaleIfError({
      cache: new FallbackCache(cacheStore, config.cache.fallbackTtlSeconds),
      namespace: 'gateway',
      policyOf: (supergraph) => config.fallback.supergraphs[supergraph as SupergraphName] ?? 'none',
      onAnswer: (supergraph, answer) => metrics.countFailure(supergraph, answer),
    }),
    revocations,
    browserRules: browser.rules,
    callMetrics: telemetry.gatewayCalls,
    logger: log,
  });
  const observability = loadObservabilityConfig();
  const routing = createReloadableRouting({
    routingTable,
    supergraphs,
    buildEdge,
    sources: observability.hotReload === 'on' ? Object.fromEntries(names.map((name) => [name, supergraphSourceOf(config.topology, name)])) : undefined,
    intervalMs: observability.hotReloadIntervalMs,
    registry: metrics.registry,
    logger: log,
  });
  const nesting = { maxDepth: config.server.maxJsonDepth, maxExtensionsBytes: config.server.maxExtensionsBytes, maxDocumentNesting: config.server.maxDocumentNesting };
  const webSockets = createGraphQLWsServer({ maxPayloadBytes: config.router.maxBodyBytes, edge: () => routing.edge, nesting, telemetry: telemetry.requests, logger: log });
  // Balancer-facing shutdown (not ready, a notice, streams ended): router/routerDrain.ts.
  const drain = createRouterDrain({ noticeMs: config.router.drainNoticeMs });
  const gatewayReadiness = createGatewayReadiness({ gateways });
  const server = createComponentServer({
    logger: log,
    maxBodyBytes: config.router.maxBodyBytes,
    nesting,
    telemetry: telemetry.requests,
    decorate: browser.decorate,
    routes: routerRoutes({ config, upstreams, registry: metrics.registry, preflight: browser.preflight }),
    graphql: {
      screen: browser.screen,
      // The Guild's clients send a trusted document's id as `documentId`.
      extraParams: trustedDocuments ? ['documentId'] : [],
      // Each request takes the edge current when it arrives and runs on it to the end.
      run: async (request) => (await routing.edge.run(new EdgeRequest(httpSource(request), request.params))).answer,
    },
    // A draining router reports not ready so balancers move on before its connections close.
    readiness: async () => {
      drain.probed();
      return drain.draining ? { ready: false, status: 'draining' } : gatewayReadiness();
    },
    // After the notice, open SSE streams end without `complete`: their clients resume elsewhere.
    leaving: drain.leaving,
    onUpgrade: webSockets.handleUpgrade,
  });
  const admin = createAdminServer({ state: () => ({ component: 'router', gateways: upstreamState(upstreams()) }), metrics: metrics.registry, logger: log });
  let closing: Promise<void> | undefined;
  return {
    fetch: server.fetch,
    get routingTable() {
      return routing.routingTable;
    },
    reloadSupergraphs: () => routing.check(),
    listen: (port, host = config.host) => server.listen(port, host),
    listenAdmin(port, host = config.server.adminHost) {
      if (closing) throw new Error('router is closed');
      return admin.listen(port, host);
    },
    close() {
      closing ??= (async () => {
        // Not ready, then (when a balancer watches) the notice, then streams end: only then close.
        await drain.begin();
        await webSockets.close();
        await admin.close();
        await server.close(drainTimeoutMs);
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
