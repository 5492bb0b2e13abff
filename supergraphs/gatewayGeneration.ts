import { ApolloGateway } from '@apollo/gateway';
import { readAuthorizationRules, type Caller } from '../lib/authorization/authorizationRules.ts';
import { withAuthorization } from '../lib/authorization/authorizedExecution.ts';
import { buildEnforcedSupergraph, withAuthorizationEnforcedElsewhere } from '../lib/authorization/enforcedSupergraph.ts';
import { QueryPlanner } from '@apollo/query-planner';
import { buildSchema, type ExecutionArgs, type ExecutionResult, type GraphQLSchema } from 'graphql';
import type { Logger } from 'pino';
import { readCacheHints } from '../lib/fallback/cacheHints.ts';
import { readIdempotentWrites } from '../lib/upstream/idempotentWrites.ts';
import type { StaleIfError } from '../lib/fallback/staleIfError.ts';
import type { UpstreamCallMetrics } from '../lib/observability/upstreamCallMetrics.ts';
import type { Upstream } from '../lib/upstream/createUpstream.ts';
import { degradedData } from './degradedData.ts';
import { createSubscriptionExecutor } from './executeSubscription.ts';
import { createPlanExecutor } from './execution/createPlanExecutor.ts';
import type { GatewayContext } from './gatewayContext.ts';
import { createFetchShapes } from './fetchShape.ts';
import { ReplicaDataSource } from './replicaDataSource.ts';
import { subgraphSchema } from './subgraphSchema.ts';
import { createApolloExecute } from './useApolloGateway.ts';

/** What every generation of one gateway shares: the replica pools, the fallback cache, the metrics. */
export interface GenerationShared {
  /** The supergraph's name, for messages. */
  name: string;
  /** Replica pools by subgraph; a generation naming a new subgraph adds its pool here. */
  upstreams: Record<string, Upstream>;
  /** Makes the pool of a subgraph the gateway has none for yet (its routing URL is the default replica). */
  createUpstream(subgraph: string, routingUrl: string | undefined): Upstream;
  staleIfError: StaleIfError;
  fetchMetrics?: UpstreamCallMetrics;
  logger: Logger;
  /** Which executor runs query plans: ours (supergraphs/execution/) or @apollo/gateway's. @default 'own' */
  executor?: 'own' | 'apollo';
}

/**
 * Everything a gateway derives from one supergraph SDL, built together so it switches together: the
 * federation Supergraph, @apollo/gateway (which loads it and builds the API schema clients validate
 * against), the query planner and the plan executor (ours, or Apollo's by GATEWAY_EXECUTOR), the fetch
 * shapes, the data sources and the subscription executor.
 */
export interface GatewayGeneration {
  readonly sdl: string;
  /** The API schema; a request validated against it executes on this generation only. */
  readonly schema: GraphQLSchema;
  execute(args: ExecutionArgs): Promise<ExecutionResult>;
  subscribe(args: ExecutionArgs): Promise<AsyncIterable<ExecutionResult> | ExecutionResult>;
  /** Stops the Apollo gateway of this generation; idempotent. */
  stop(): Promise<void>;
}

/** Builds one generation; throws (and nothing changes) when the SDL is not a valid supergraph. */
export async function buildGatewayGeneration(sdl: string, shared: GenerationShared): Promise<GatewayGeneration> {
  const { name, upstreams, staleIfError, fetchMetrics, logger, executor = 'own' } = shared;
  const supergraph = buildEnforcedSupergraph(sdl);
  for (const subgraph of supergraph.subgraphs()) upstreams[subgraph.name] ??= shared.createUpstream(subgraph.name, subgraph.url);
  const supergraphSchema = buildSchema(sdl, { assumeValidSDL: true });
  const shapes = createFetchShapes(supergraphSchema, readCacheHints(sdl), readIdempotentWrites(sdl));
  const dataSources: Record<string, ReplicaDataSource> = {};
  const gateway = new ApolloGateway({
    // Its loader refuses the authorization links `for: SECURITY`: this gateway enforces them itself (below).
    supergraphSdl: withAuthorizationEnforcedElsewhere(sdl),
    logger: { debug: () => {}, info: () => {}, warn: (m) => logger.warn(String(m)), error: (m) => logger.error(String(m)) },
    buildService: ({ name: subgraph }) => {
      const upstream = upstreams[subgraph];
      if (!upstream) throw new Error(`supergraph ${name} names subgraph ${subgraph}, which has no replica pool`);
      return (dataSources[subgraph] = new ReplicaDataSource({
        serviceName: subgraph,
        client: upstream.client,
        staleIfError,
        shapes,
        metrics: fetchMetrics,
        degradedData: (shape) => (shape.document ? (degradedData(subgraphSchema(supergraph, subgraph), shape.document) ?? undefined) : undefined),
      }));
    },
  });
  await gateway.load();
  // One planner for our executor and the subscription executor (@apollo/gateway keeps its own).
  const planner = new QueryPlanner(supergraph);
  const own = executor === 'own' ? createPlanExecutor({ supergraph, supergraphSchema, planner, services: () => dataSources }) : undefined;
  let stopping: Promise<void> | undefined;
  // `@authenticated` / `@requiresScopes` checked again here on the principal the router signed.
  const authorized = withAuthorization(readAuthorizationRules(sdl), callerOfContext, {
    execute: own ? (args) => own.execute(args) : createApolloExecute(gateway, logger),
    subscribe: createSubscriptionExecutor({
      supergraph,
      planner,
      executePlan: own?.executePlan,
      shapes,
      dataSources: () => dataSources,
      clients: Object.fromEntries(Object.entries(upstreams).map(([k, u]) => [k, u.client])),
    }),
  });
  return {
    sdl,
    schema: gateway.schema!,
    execute: authorized.execute,
    subscribe: authorized.subscribe,
    stop: () => (stopping ??= gateway.stop()),
  };
}

/** The caller as the router signed it: authenticated when the principal names a user, with its key's scopes. */
function callerOfContext(context: unknown): Caller {
  const principal = (context as GatewayContext | undefined)?.principal;
  return { authenticated: principal?.userId !== undefined, scopes: new Set(principal?.scopes ?? []) };
}
