import type { GraphQLDataSource, GraphQLDataSourceProcessOptions } from '@apollo/gateway';
import type { GatewayGraphQLResponse } from '@apollo/server-gateway-interface';
import { downstreamError, type UpstreamFailure } from '../lib/errors.ts';
import type { StaleIfError } from '../lib/fallback/staleIfError.ts';
import { inClientSpan } from '../lib/observability/spans.ts';
import { withTraceHeaders } from '../lib/observability/tracing.ts';
import type { UpstreamCallMetrics } from '../lib/observability/upstreamCallMetrics.ts';
import { isCleanDataBody, parseGraphQLResponse } from '../lib/upstream/graphqlResponse.ts';
import { carriesIdempotencyKeys } from '../lib/upstream/idempotentWrites.ts';
import { UpstreamError, type CallKind, type UpstreamClient } from '../lib/upstream/upstreamClient.ts';
import type { GatewayContext } from './gatewayContext.ts';
import type { FetchShape, FetchShapes } from './fetchShape.ts';

export interface ReplicaDataSourceOptions {
  serviceName: string;
  client: UpstreamClient;
  staleIfError: StaleIfError;
  shapes: FetchShapes;
  /** An empty answer shaped like the fetch (its `degraded` fallback), or undefined when none can be shaped. */
  degradedData(shape: FetchShape): unknown;
  /** Count and duration of fetches by outcome. @default none */
  metrics?: UpstreamCallMetrics;
}

/**
 * The gateway's data source for one subgraph: every fetch of a query plan goes to one replica of the
 * subgraph's pool. A failed fetch is answered by the subgraph's fallback policy (the last good answer
 * for this principal, a degraded empty answer, or nothing) with errors on the fields it should have
 * filled, so the gateway still returns everything else.
 *
 * It implements the gateway's `GraphQLDataSource` seam directly rather than subclassing
 * RemoteGraphQLDataSource: a fetch is one POST through the pool's client, and the fetch's parsed
 * document (from the plan) says all the rest, so there is no fetch-API round trip to pay for.
 */
export class ReplicaDataSource implements GraphQLDataSource<GatewayContext> {
  constructor(private readonly options: ReplicaDataSourceOptions) {}

  /** One subgraph fetch, in a span with the replica that answered, the attempts and any fallback. */
  process(options: GraphQLDataSourceProcessOptions<GatewayContext>): Promise<GatewayGraphQLResponse> {
    return inClientSpan(`subgraph ${this.options.serviceName}`, async (span) => {
      const started = performance.now();
      const fetched = await this.fetch(options);
      this.options.metrics?.observe(this.options.serviceName, fetched.outcome, (performance.now() - started) / 1_000);
      span?.setAttributes({ 'graphql.subgraph.name': this.options.serviceName, 'subgraph.outcome': fetched.outcome, ...fetched.attributes });
      return fetched.response;
    });
  }

  private async fetch(options: GraphQLDataSourceProcessOptions<GatewayContext>): Promise<{
    response: GatewayGraphQLResponse;
    outcome: 'answered' | 'fallback' | 'failed';
    attributes: Record<string, string | number>;
  }> {
    const { serviceName, client, staleIfError } = this.options;
    const { request, context } = options;
    const query = request.query ?? '';
    const shape = this.options.shapes.of('document' in options ? options.document : undefined, query);
    const variablesJson = JSON.stringify(request.variables ?? {});
    const target = {
      upstream: serviceName,
      query,
      variablesJson,
      isMutation: shape.isMutation,
      isPublic: shape.isPublic,
      principalId: context.principal?.userId,
    };
    const key = staleIfError.keyFor(target);
    try {
      const body = `{"query":${shape.queryJson},"variables":${variablesJson}${request.operationName ? `,"operationName":${JSON.stringify(request.operationName)}` : ''}}`;
      const response = await client.post(body, {
        headers: withTraceHeaders(context.principalHeaders?.() ?? {}),
        signal: context.signal,
        kind: callKindOf(shape, request.variables),
      });
      const result = response.status < 400 ? parseGraphQLResponse(response.body) : undefined;
      if (!result) throw new UpstreamError(serviceName, response.status >= 400 ? 'http_4xx' : 'bad_response', response.attempts);
      // A clean answer is kept as the bytes it came in; others are serialised from what was parsed.
      // Without a key (the subgraph's policy keeps nothing) the 100 KB answer is not scanned for it.
      if (key) {
        if (isCleanDataBody(response.body)) staleIfError.rememberBody(key, response.body);
        else staleIfError.remember(key, result.data, Boolean(result.errors?.length));
      }
      return { response: result as GatewayGraphQLResponse, outcome: 'answered', attributes: { 'server.address': response.replica, 'subgraph.attempts': response.attempts } };
    } catch (error) {
      const failure: UpstreamFailure = error instanceof UpstreamError ? error.failure : { reason: 'bad_response', attempts: 1 };
      const recovered = await staleIfError.recover(target, key, {
        message: `The ${serviceName} service is unavailable; an empty answer stands in for its fields.`,
        data: () => this.options.degradedData(shape),
      });
      const errors = failurePaths(shape, request.variables).map((path) => downstreamError(serviceName, failure, path, recovered?.fallback));
      return {
        response: { data: (recovered?.data ?? null) as GatewayGraphQLResponse['data'], errors } as GatewayGraphQLResponse,
        outcome: recovered ? 'fallback' : 'failed',
        attributes: {
          'subgraph.attempts': failure.attempts,
          'error.type': failure.reason,
          ...(recovered ? { 'subgraph.fallback': recovered.fallback.source } : {}),
        },
      };
    }
  }
}

/** A query, a write declared idempotent that carries its keys in this request, or another write. */
export function callKindOf(shape: FetchShape, variables: Record<string, unknown> | undefined): CallKind {
  if (!shape.isMutation) return 'query';
  return shape.idempotencyKeys && carriesIdempotencyKeys(shape.idempotencyKeys, variables) ? 'idempotent' : 'write';
}

/**
 * Paths the failed fetch would have filled: one per entity for an `_entities` fetch (the gateway maps
 * them back to where the entities sit in the response), else one per root field.
 */
function failurePaths(shape: FetchShape, variables: Record<string, unknown> | undefined): Array<Array<string | number> | undefined> {
  const representations = variables?.representations;
  if (shape.isEntities && Array.isArray(representations)) return representations.map((_, i) => ['_entities', i]);
  return shape.rootKeys.length ? shape.rootKeys.map((key) => [key]) : [undefined];
}
