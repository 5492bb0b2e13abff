import { createServer, type Server } from 'node:http';
import { createYoga, type YogaServerInstance } from 'graphql-yoga';
import type { Logger } from 'pino';
import { Agent } from 'undici';
import { createCacheStore } from '../lib/cache/createCacheStore.ts';
import type { Config } from '../lib/config.ts';
import { FallbackCache } from '../lib/fallback/fallbackCache.ts';
import { StaleIfError, type FallbackPolicy } from '../lib/fallback/staleIfError.ts';
import { componentLogger } from '../lib/logger.ts';
import { drainHttpServer } from '../lib/server/drainHttpServer.ts';
import { createAdminServer } from '../lib/server/createAdminServer.ts';
import { createRequestListener } from '../lib/server/createRequestListener.ts';
import { listenHttp } from '../lib/server/listenHttp.ts';
import { useRequestDecompression } from '../lib/server/useRequestDecompression.ts';
import { useBodySizeLimit } from '../lib/server/useBodySizeLimit.ts';
import { useNestingLimits } from '../lib/server/useNestingLimits.ts';
import { maskUnexpectedError } from '../lib/server/maskUnexpectedError.ts';
import { useHealthEndpoints } from '../lib/server/useHealthEndpoints.ts';
import { useSseEventIds } from '../lib/server/useSseEventIds.ts';
import { useRouterSignature } from '../lib/server/useRouterSignature.ts';
import { yogaLogger } from '../lib/server/yogaLogger.ts';
import { readSupergraphSdl, supergraphSourceOf } from '../lib/topology/loadTopology.ts';
import { createUpstream, upstreamState, type Upstream } from '../lib/upstream/createUpstream.ts';
import type { HealthProbe } from '../lib/upstream/healthChecker.ts';
import { PRINCIPAL_HEADER, PRINCIPAL_TOKEN_REUSE_MS, signPrincipal } from '../lib/principal.ts';
import type { ReplicaPool } from '../lib/upstream/replicaPool.ts';
import { RetryBudget } from '../lib/upstream/retryBudget.ts';
import { createUpstreamMetrics } from '../lib/upstream/upstreamMetrics.ts';
import { gatewayContextFactory, type GatewayContext } from './gatewayContext.ts';
import { loadObservabilityConfig } from '../lib/config/observabilityConfig.ts';
import { buildGatewayGeneration, type GenerationShared } from './gatewayGeneration.ts';
import { createReloadableGateway } from './reloadableGateway.ts';
import { useOperationFailureAnswer } from './useOperationFailureAnswer.ts';
import { meteredCacheStore } from '../lib/observability/meteredCacheStore.ts';
import { createUpstreamCallMetrics } from '../lib/observability/upstreamCallMetrics.ts';
import { useRequestTelemetry } from '../lib/observability/useRequestTelemetry.ts';

/** A subgraph's health probe: the path its topology entry names, else a signed `{ __typename }` query. */
function healthProbeOf(config: Config, supergraph: string, subgraph: string, headers: () => Record<string, string>): HealthProbe {
  const path = config.topology.supergraphs[supergraph]?.subgraphs[subgraph]?.healthCheck;
  return path ? { kind: 'path', path } : { kind: 'graphql', headers };
}

/** Headers carrying the signed anonymous principal, signed again well within a token's life. */
function anonymousHeaders(secret: string): () => Record<string, string> {
  let signed: { headers: Record<string, string>; at: number } | undefined;
  return () => {
    const now = Date.now();
    if (!signed || now - signed.at > PRINCIPAL_TOKEN_REUSE_MS) signed = { headers: { [PRINCIPAL_HEADER]: signPrincipal({ scopes: [] }, secret, now) }, at: now };
    return signed.headers;
  };
}

export interface GatewayOptions {
  /** The supergraph's name, for logs, state and metrics. */
  name: string;
  config: Config;
  /** Verifies the principal the router signs; unsigned GraphQL requests get 401. */
  internalSecret: string;
  /** During a rotation, the secret being replaced: signatures made with it are still accepted. */
  internalSecretPrevious?: string;
  /** Composed supergraph SDL. @default what the topology names for this supergraph */
  supergraphSdl?: string;
  /** Replica URLs by subgraph. @default config.gateway.subgraphUrls, else the routing URL the supergraph names */
  subgraphUrls?: Readonly<Record<string, readonly string[]>>;
  /** How long close() waits for in-flight requests before cutting connections. @default 10000 */
  drainTimeoutMs?: number;
  /** @default componentLogger(`gateway-${name}`) */
  logger?: Logger;
}

export interface Gateway {
  /** `yoga.fetch(...)` serves requests in-process without a port. */
  yoga: YogaServerInstance<Record<string, never>, GatewayContext>;
  /** Replica pools by subgraph, for state and tests. */
  pools: Record<string, ReplicaPool>;
  /** Starts the HTTP server; `port: 0` picks a free port. */
  listen(port: number, host?: string): Promise<{ url: string; port: number }>;
  /** Starts the admin listener (`/internal/state`, `/metrics`); `port: 0` picks a free port. @default host config.server.adminHost */
  listenAdmin(port: number, host?: string): Promise<{ url: string; port: number }>;
  /** Stops accepting, drains in-flight requests, closes subgraph connections and the cache; idempotent. */
  close(): Promise<void>;
}

/**
 * One supergraph gateway, built like the router: graphql-yoga serves HTTP, health, readiness and the
 * operator endpoints through the same shared plugins, @apollo/query-planner plans and our plan executor
 * (supergraphs/execution/; Apollo's with GATEWAY_EXECUTOR=apollo) runs the plans, every subgraph fetch
 * going through a replica pool with its breaker and stale-if-error fallback.
 */
export async function createGateway(options: GatewayOptions): Promise<Gateway> {
  const { name, config, internalSecret, internalSecretPrevious, drainTimeoutMs = 10_000 } = options;
  const internalSecrets = internalSecretPrevious ? [internalSecret, internalSecretPrevious] : [internalSecret];
  const log = options.logger ?? componentLogger(`gateway-${name}`);
  const observability = loadObservabilityConfig();
  // Hot reload watches what the topology names (a composed file or a rover config) unless the SDL was handed in.
  const source = options.supergraphSdl === undefined && observability.hotReload === 'on' ? supergraphSourceOf(config.topology, name) : undefined;
  const supergraphSdl = options.supergraphSdl ?? readSupergraphSdl(config.topology, name);
  const configuredUrls = config.gateway.subgraphUrls as Readonly<Record<string, readonly string[] | undefined>>;
  const dispatcher = new Agent({ keepAliveTimeout: 30_000, connections: 256 });
  const retryBudget = new RetryBudget({ ratio: config.resilience.retryBudgetRatio });
  const upstreams: Record<string, Upstream> = {};
  const metrics = createUpstreamMetrics(`gateway-${name}`, () => upstreams);
  const cacheStore = meteredCacheStore(createCacheStore(config.cache, log), metrics.registry);
  const staleIfError = new StaleIfError({
    cache: new FallbackCache(cacheStore, config.cache.fallbackTtlSeconds),
    policyOf: (subgraph) => (config.fallback.subgraphs as Readonly<Record<string, FallbackPolicy | undefined>>)[subgraph] ?? 'none',
    onAnswer: (subgraph, answer) => metrics.countFailure(subgraph, answer),
  });
  // The { __typename } probe is signed like any call (as the anonymous marker), so our subgraphs answer it.
  const probeHeaders = anonymousHeaders(internalSecret);
  const shared: GenerationShared = {
    name,
    upstreams,
    createUpstream: (subgraph, routingUrl) =>
      createUpstream({
        name: subgraph,
        urls: [...(options.subgraphUrls?.[subgraph] ?? configuredUrls[subgraph] ?? (routingUrl ? [routingUrl] : []))],
        resilience: config.resilience,
        timeoutMs: config.gateway.subgraphTimeoutMs,
        dispatcher,
        retryBudget,
        healthProbe: healthProbeOf(config, name, subgraph, probeHeaders),
        onMisconfiguredProbe: (url, status) =>
          log.warn({ subgraph, replica: url, status }, 'health check answered %d: name a healthCheck path this subgraph serves in the topology file, or none for a { __typename } query; passive outlier detection still watches it', status),
      }),
    staleIfError,
    fetchMetrics: createUpstreamCallMetrics(metrics.registry),
    logger: log,
    executor: config.gateway.executor,
  };
  const supergraph = createReloadableGateway({
    name,
    initial: await buildGatewayGeneration(supergraphSdl, shared),
    build: (sdl) => buildGatewayGeneration(sdl, shared),
    source,
    intervalMs: observability.hotReloadIntervalMs,
    registry: metrics.registry,
    logger: log,
  });

  let draining = false;
  const yoga = createYoga<Record<string, never>, GatewayContext>({
    // The API schema of the current supergraph, read once per request: what clients of this gateway validate against.
    schema: supergraph.schema,
    graphqlEndpoint: '/graphql',
    graphiql: false,
    landingPage: false,
    // No file uploads in any schema: a multipart body (whose malformed parts yoga reported as a 200) is a 415.
    multipart: false,
    batching: false,
    maskedErrors: { isDev: false, maskError: maskUnexpectedError },
    maxRequestBodySize: false, // useBodySizeLimit: the same bound without a stream per request
    logging: yogaLogger(log),
    context: gatewayContextFactory(internalSecrets),
    plugins: [
      // First: the body is decoded and its JSON bounded before any other plugin reads it.
      useBodySizeLimit({ maxBytes: config.server.internalMaxBodyBytes }),
      useRequestDecompression({ maxBytes: config.server.internalMaxBodyBytes }),
      useNestingLimits({
        maxDepth: config.server.maxJsonDepth,
        maxExtensionsBytes: config.server.maxExtensionsBytes,
        maxDocumentNesting: config.server.maxDocumentNesting,
      }),
      useHealthEndpoints({
        // Not ready while draining, so a balancer moves on before the connections close.
        readiness: async () => (draining ? { ready: false, status: 'draining', supergraph: name } : { ready: true, supergraph: name }),
      }),
      // One log line per request, with the trace id the router's traceparent carried.
      useRequestTelemetry({ logger: log }),
      useRouterSignature({ secrets: internalSecrets }),
      useSseEventIds(),
      // The query planner plans and our executor (or Apollo's) runs the plan, on the supergraph generation the request was validated against.
      supergraph.plugin,
      // After it: an operation that cannot be planned or executed is answered as its own error, not a 500.
      useOperationFailureAnswer({ logger: log }),
    ],
  });

  const admin = createAdminServer({
    state: () => ({ supergraph: name, subgraphs: upstreamState(upstreams) }),
    metrics: metrics.registry,
    logger: log,
  });
  let server: Server | undefined;
  let closing: Promise<void> | undefined;
  return {
    yoga,
    get pools() {
      return Object.fromEntries(Object.entries(upstreams).map(([k, u]) => [k, u.pool]));
    },
    async listen(port, host = config.host) {
      if (server) throw new Error('gateway is already listening');
      server = createServer(createRequestListener(yoga, log));
      server.keepAliveTimeout = 65_000;
      server.headersTimeout = 66_000;
      return listenHttp(server, port, host);
    },
    listenAdmin(port, host = config.server.adminHost) {
      if (closing) throw new Error('gateway is closed');
      return admin.listen(port, host);
    },
    close() {
      closing ??= (async () => {
        draining = true;
        await admin.close();
        if (server?.listening) await drainHttpServer(server, { graceMs: drainTimeoutMs });
        await yoga.dispose();
        await supergraph.close();
        await Promise.all(Object.values(upstreams).map((u) => u.close()));
        await dispatcher.close();
        await cacheStore.close();
      })();
      return closing;
    },
  };
}
