import type { Logger } from 'pino';
import { createCacheStore } from '../lib/cache/createCacheStore.ts';
import type { Config } from '../lib/config.ts';
import { loadObservabilityConfig } from '../lib/config/observabilityConfig.ts';
import { FallbackCache } from '../lib/fallback/fallbackCache.ts';
import { StaleIfError, type FallbackPolicy } from '../lib/fallback/staleIfError.ts';
import { componentLogger } from '../lib/logger.ts';
import { meteredCacheStore } from '../lib/observability/meteredCacheStore.ts';
import { createRequestTelemetry } from '../lib/observability/requestTelemetry.ts';
import { createUpstreamCallMetrics } from '../lib/observability/upstreamCallMetrics.ts';
import { createAdminServer } from '../lib/server/createAdminServer.ts';
import { createComponentServer, type ComponentServer } from '../lib/server/createComponentServer.ts';
import { createGraphQLRunner } from '../lib/server/createGraphQLRunner.ts';
import { createRouterSignature } from '../lib/server/routerSignature.ts';
import { readSupergraphSdl, supergraphSourceOf } from '../lib/topology/loadTopology.ts';
import { upstreamState } from '../lib/upstream/createUpstream.ts';
import type { ReplicaPool } from '../lib/upstream/replicaPool.ts';
import { createUpstreamMetrics } from '../lib/upstream/upstreamMetrics.ts';
import { gatewayContextFactory } from './gatewayContext.ts';
import { buildGatewayGeneration, type GenerationShared } from './gatewayGeneration.ts';
import { createReloadableGateway } from './reloadableGateway.ts';
import { createSubgraphUpstreams } from './subgraphUpstreams.ts';

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

export interface Gateway extends Pick<ComponentServer, 'fetch'> {
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
 * One supergraph gateway on the shared component server: router-signed requests only, no CORS (no
 * browser ever talks to it), @apollo/query-planner plans and our plan executor (supergraphs/execution/;
 * Apollo's with GATEWAY_EXECUTOR=apollo) runs the plans, every subgraph fetch going through a replica
 * pool with its breaker and stale-if-error fallback.
 */
export async function createGateway(options: GatewayOptions): Promise<Gateway> {
  const { name, config, internalSecret, internalSecretPrevious, drainTimeoutMs = 10_000 } = options;
  const internalSecrets = internalSecretPrevious ? [internalSecret, internalSecretPrevious] : [internalSecret];
  const log = options.logger ?? componentLogger(`gateway-${name}`);
  const observability = loadObservabilityConfig();
  // Hot reload watches what the topology names (a composed file or a rover config) unless the SDL was handed in.
  const source = options.supergraphSdl === undefined && observability.hotReload === 'on' ? supergraphSourceOf(config.topology, name) : undefined;
  const supergraphSdl = options.supergraphSdl ?? readSupergraphSdl(config.topology, name);
  const subgraphs = createSubgraphUpstreams({ supergraph: name, config, internalSecret, subgraphUrls: options.subgraphUrls, logger: log });
  const { upstreams } = subgraphs;
  const metrics = createUpstreamMetrics(`gateway-${name}`, () => upstreams);
  const cacheStore = meteredCacheStore(createCacheStore(config.cache, log), metrics.registry);
  const shared: GenerationShared = {
    name,
    upstreams,
    createUpstream: subgraphs.create,
    staleIfError: new StaleIfError({
      cache: new FallbackCache(cacheStore, config.cache.fallbackTtlSeconds),
      policyOf: (subgraph) => (config.fallback.subgraphs as Readonly<Record<string, FallbackPolicy | undefined>>)[subgraph] ?? 'none',
      onAnswer: (subgraph, answer) => metrics.countFailure(subgraph, answer),
    }),
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
  const signature = createRouterSignature({ secrets: internalSecrets });
  const contextOf = gatewayContextFactory(internalSecrets);
  const server = createComponentServer({
    logger: log,
    maxBodyBytes: config.server.internalMaxBodyBytes,
    nesting: { maxDepth: config.server.maxJsonDepth, maxExtensionsBytes: config.server.maxExtensionsBytes, maxDocumentNesting: config.server.maxDocumentNesting },
    // One log line per request, with the trace id the router's traceparent carried.
    telemetry: createRequestTelemetry({ logger: log }),
    // The router passes a clean answer on as it arrives when told it is one.
    markDataOnly: true,
    graphql: {
      screen: (exchange) => signature.screen(exchange),
      // Each request validates against the current API schema and runs on the generation that schema belongs to.
      run: createGraphQLRunner({
        schema: supergraph.schema,
        context: ({ exchange, telemetry }) => contextOf(exchange, telemetry),
        execute: supergraph.execute,
        subscribe: supergraph.subscribe,
        // The plan executor sends variables on to the subgraphs as they are: they are checked here first.
        coerceVariables: true,
        logger: log,
      }),
    },
    // Not ready while draining, so a balancer moves on before the connections close.
    readiness: async () => (draining ? { ready: false, status: 'draining', supergraph: name } : { ready: true, supergraph: name }),
  });

  const admin = createAdminServer({ state: () => ({ supergraph: name, subgraphs: upstreamState(upstreams) }), metrics: metrics.registry, logger: log });
  let closing: Promise<void> | undefined;
  return {
    fetch: server.fetch,
    get pools() {
      return Object.fromEntries(Object.entries(upstreams).map(([k, u]) => [k, u.pool]));
    },
    listen: (port, host = config.host) => server.listen(port, host),
    listenAdmin(port, host = config.server.adminHost) {
      if (closing) throw new Error('gateway is closed');
      return admin.listen(port, host);
    },
    close() {
      closing ??= (async () => {
        draining = true;
        await admin.close();
        await server.close(drainTimeoutMs);
        await supergraph.close();
        await subgraphs.close();
        await cacheStore.close();
      })();
      return closing;
    },
  };
}
