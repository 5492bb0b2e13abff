import { parse, type ExecutionResult } from 'graphql';
import type { Logger } from 'pino';
import type { CacheStore } from '../../lib/cache/cacheStore.ts';
import type { Config } from '../../lib/config.ts';
import type { StaleIfError } from '../../lib/fallback/staleIfError.ts';
import type { OperationType } from '../../lib/observability/requestTelemetry.ts';
import type { UpstreamCallMetrics } from '../../lib/observability/upstreamCallMetrics.ts';
import type { OperationAnswer } from '../../lib/server/graphqlEndpoint.ts';
import type { SupergraphName } from '../../lib/topology/loadTopology.ts';
import type { ApiKeyRevocations } from '../apiKeyRevocations.ts';
import type { GatewayClient } from '../gatewayClient.ts';
import { readCostDirectives } from '../operationLimits/costDirectives.ts';
import { maxAliasesRule } from '../operationLimits/maxAliasesRule.ts';
import { maxDepthRule } from '../operationLimits/maxDepthRule.ts';
import { maxDirectivesRule } from '../operationLimits/maxDirectivesRule.ts';
import { maxRootFieldsRule } from '../operationLimits/maxRootFieldsRule.ts';
import type { TrustedDocuments } from '../persistedOperations/trustedDocuments.ts';
import type { LoadedSupergraphs } from '../reloadableRoutingTable.ts';
import type { RoutingTable } from '../routingTable.ts';
import type { StreamLimiter } from '../streamLimiter.ts';
import type { RateLimiter } from '../rateLimit/rateLimiter.ts';
import type { RateLimitMetrics } from '../rateLimit/rateLimitMetrics.ts';
import type { ValidationRule } from 'graphql';
import { readAuthorizationRules } from '../../lib/authorization/authorizationRules.ts';
import { createAnalysisStage } from './analysisStage.ts';
import { createAuthorizationStage } from './authorizationStage.ts';
import { createSupergraphPolicies } from './supergraphPolicies.ts';
import { authStage } from './authStage.ts';
import { createCallerStage } from './callerStage.ts';
import type { EdgeRequest, EdgeStage } from './edgeRequest.ts';
import { createLimitStages } from './limitStages.ts';
import { createPersistedQueryStages } from './persistedQueryStages.ts';
import { createRateLimitStage } from './rateLimitStage.ts';
import { createResponseCacheStage } from './responseCacheStage.ts';
import { createRevocationStage } from './revocationStage.ts';
import { retryAfter } from './retryAfter.ts';
import { createRoutingStage, passedOn } from './routingStage.ts';
import { lazyGraphQLResponse } from '../../lib/upstream/graphqlResponse.ts';
import { createSubscriptionStage } from './subscriptionStage.ts';
import { createTrustedDocumentsStages } from './trustedDocumentsStage.ts';

/** What the edge is made of besides the routing table: the router's long-lived parts. */
export interface EdgeParts {
  config: Config;
  caller: ReturnType<typeof createCallerStage>;
  /** @default no rate limits */
  rateLimiter?: RateLimiter;
  rateLimitMetrics?: RateLimitMetrics;
  /** APQ and the response cache. */
  cacheStore: CacheStore;
  /** @default no trusted documents */
  trustedDocuments?: TrustedDocuments;
  gateways: Readonly<Record<SupergraphName, GatewayClient>>;
  streams: StreamLimiter;
  staleIfError?: StaleIfError;
  revocations: Pick<ApiKeyRevocations, 'revoked'>;
  /** Validation rules of the browser policy (introspection off). */
  browserRules: readonly ValidationRule[];
  callMetrics?: UpstreamCallMetrics;
  logger: Logger;
}

/** The edge over one routing table: every request runs its stages once, in order. */
export interface Edge {
  readonly routingTable: RoutingTable;
  /** The answer, and whether a stage refused the request before its operation ran. */
  run(request: EdgeRequest): Promise<{ answer: OperationAnswer; refused: boolean }>;
}

/**
 * The edge as plain stages, composed here and nowhere else, in the order a request meets them:
 * cheapest refusals first, each stage doing its one thing once and leaving what it found on the
 * request for the next. A hot reload builds a new edge over the new routing table with the same
 * long-lived parts (edgeOver, reloadableRoutingTable.ts).
 */
export function defineEdge(parts: EdgeParts): (routingTable: RoutingTable, supergraphs: LoadedSupergraphs) => Edge {
  const { config, logger } = parts;
  const edge = config.edge;
  const persisted = edge.persistedQueries;
  // Stages that do not depend on the routing table are made once.
  const rateLimit = parts.rateLimiter && createRateLimitStage({ limiter: parts.rateLimiter, metrics: parts.rateLimitMetrics, logger });
  const trusted = parts.trustedDocuments && createTrustedDocumentsStages({ documents: parts.trustedDocuments, mode: persisted.trustedDocuments as 'log' | 'enforce', requireId: persisted.requireId, logger });
  const apq = persisted.apqEnabled ? createPersistedQueryStages({ store: parts.cacheStore, ttlSeconds: persisted.apqTtlSeconds }) : undefined;

  return (routingTable, supergraphs) => {
    const sdls = supergraphs.map(([, loaded]) => parse(loaded.sdl, { noLocation: true }));
    // The API schemas drop @cost/@listSize and the authorization directives; the composed SDLs keep them.
    const costDirectives = readCostDirectives(sdls);
    const limits = createLimitStages({ schema: routingTable.schema, limits: edge.operationLimits, costDirectives });
    const authorization = createAuthorizationStage(routingTable, readAuthorizationRules(...sdls));
    const policies = createSupergraphPolicies({
      topology: config.topology,
      schema: routingTable.schema,
      limits: { ...edge.operationLimits, maxDepth: config.router.maxDepth },
      costDirectives,
      limiter: parts.rateLimiter,
    });
    const { operationLimits } = edge;
    const analysis = createAnalysisStage({
      routingTable,
      maxTokens: operationLimits.maxTokens,
      rules: [
        maxAliasesRule(operationLimits.maxAliases),
        maxRootFieldsRule(operationLimits.maxRootFields),
        maxDirectivesRule(operationLimits.maxDirectivesPerField),
        maxDepthRule(config.router.maxDepth),
        ...parts.browserRules,
      ],
    });
    const routing = createRoutingStage({
      routingTable,
      gateways: parts.gateways,
      gatewayTimeoutMs: config.router.gatewayTimeoutMs,
      staleIfError: parts.staleIfError,
      callMetrics: parts.callMetrics,
      policies,
      logger,
    });
    const subscription = createSubscriptionStage({ routingTable, gateways: parts.gateways, streams: parts.streams, policies, logger });
    const operation: EdgeStage = (request) => {
      const { document, operation: definition } = request;
      request.source.telemetry.executing(document!, definition!.name?.value ?? null, definition!.operation as OperationType);
      return definition!.operation === 'subscription' ? subscription(request) : routing(request);
    };

    const stages: EdgeStage[] = [
      parts.caller.stage, // the API key, resolved once for everything after
      ...(rateLimit ? [rateLimit] : []), // the cheapest refusal, before anything is parsed
      ...(trusted ? [trusted.byId] : []), // a manifest id becomes its document before APQ sees it
      ...(apq ? [apq.lookup] : []),
      ...(trusted ? [trusted.byText] : []), // what APQ turned into text is checked too
      limits.variables,
      analysis, // parse and validate, once per document
      ...(apq ? [apq.register] : []), // only a valid document is registered
      authStage, // a refused key is answered once the operation is known to be valid
      limits.cost,
      ...(authorization ? [authorization] : []), // fields the caller may not see, taken out before anything is sent
      createRevocationStage({ revocations: parts.revocations, routingTable }),
      ...(config.cache.responseCache === 'on' ? [createResponseCacheStage({ store: parts.cacheStore, routingTable, mutationInvalidates: config.cache.mutationInvalidates })] : []),
    ];

    return {
      routingTable,
      async run(request) {
        for (const stage of stages) {
          const pending = stage(request);
          const answer = pending instanceof Promise ? await pending : pending;
          if (answer) return { answer: finish(request, answer), refused: answer.kind === 'result' && !('data' in answer.result) };
        }
        const pending = operation(request);
        const answer = (pending instanceof Promise ? await pending : pending)!;
        return { answer: finish(request, answer), refused: false };
      },
    };
  };
}

/** What every answer gets from the request: its headers (RateLimit, Retry-After), its extensions (the cost report), and the work that waited for it. */
function finish(request: EdgeRequest, answer: OperationAnswer): OperationAnswer {
  let finished = answer;
  if (answer.kind === 'result' && request.extensions && 'data' in answer.result) {
    // A spread reads a passed-on answer's lazy `data`: with extensions added it is serialised afresh.
    finished = { ...answer, result: { ...answer.result, extensions: { ...answer.result.extensions, ...request.extensions } } };
  }
  if (request.answerHeaders) finished = { ...finished, headers: { ...request.answerHeaders, ...finished.headers } };
  const wait = finished.kind === 'result' && finished.result.errors ? retryAfter(finished.result) : undefined;
  if (wait !== undefined && !finished.headers?.['retry-after']) finished = { ...finished, headers: { ...finished.headers, 'retry-after': wait } };
  const afterwards = request.afterwards;
  if (!afterwards) return finished;
  const run = (result: ExecutionResult | undefined) => {
    for (const work of afterwards) work(result);
  };
  if (finished.kind !== 'bytes' || typeof finished.body === 'string' || finished.body instanceof Uint8Array) {
    run(finished.kind === 'result' ? finished.result : undefined);
    return finished;
  }
  // An answer handed on as it arrives is known whole only once it has been sent.
  const { onEnd } = finished;
  return {
    ...finished,
    keepWhole: true,
    onEnd(complete, whole) {
      onEnd?.(complete, whole);
      run(complete && whole !== undefined ? passedOn(lazyGraphQLResponse(whole), whole) : undefined);
    },
  };
}
