import type { GraphQLDataSource } from '@apollo/gateway';
// No public seam runs subscription plans in gateway-js (it throws on a SubscriptionNode), but its plan
// executor is what runs `rest` per event; pinned with @apollo/gateway 2.14.x.
import { executeQueryPlan } from '@apollo/gateway/dist/executeQueryPlan.js';
import { buildOperationContext } from '@apollo/gateway/dist/operationContext.js';
import type { GatewayGraphQLRequestContext } from '@apollo/server-gateway-interface';
import { operationFromDocument, type Supergraph } from '@apollo/federation-internals';
import { QueryPlanner, type FetchNode, type QueryPlan, type SubscriptionNode } from '@apollo/query-planner';
import type { DocumentNode, ExecutionArgs, ExecutionResult, GraphQLSchema } from 'graphql';
import { downstreamError, streamInterrupted, type UpstreamFailure } from '../lib/errors.ts';
import { relayedError } from '../lib/errorTransforms.ts';
import { withTraceHeaders } from '../lib/observability/tracing.ts';
import { openEventStream } from '../lib/upstream/eventStream.ts';
import { carriesIdempotencyKeys } from '../lib/upstream/idempotentWrites.ts';
import { parseGraphQLResponse } from '../lib/upstream/graphqlResponse.ts';
import { isInterrupted, openResumableEvents } from '../lib/upstream/resumableStream.ts';
import { UpstreamError, type UpstreamClient } from '../lib/upstream/upstreamClient.ts';
import type { FetchShapes } from './fetchShape.ts';
import type { GatewayContext } from './gatewayContext.ts';

export interface SubscriptionExecutorOptions {
  supergraph: Supergraph;
  /** Shared with the query executor. @default a new one */
  planner?: QueryPlanner;
  /** What each primary fetch is (its `@idempotent` keys): whether an opening that reached a replica may go to another. */
  shapes: FetchShapes;
  /** The gateway's data sources by subgraph: `rest` of a plan fetches through them, fallbacks included. */
  dataSources(): Record<string, GraphQLDataSource>;
  /** Pool clients by subgraph: the `primary` stream opens on one of their replicas. */
  clients: Readonly<Record<string, UpstreamClient>>;
  /**
   * Runs an event's plan (the primary replayed, then `rest`) with the given data sources: our plan
   * executor's when the gateway runs on it. @default @apollo/gateway's executeQueryPlan
   */
  executePlan?: (plan: QueryPlan, args: ExecutionArgs, services: Record<string, GraphQLDataSource>) => Promise<ExecutionResult>;
}

type Subscribe = (args: ExecutionArgs) => Promise<AsyncIterable<ExecutionResult> | ExecutionResult>;

/**
 * Runs the subscription plans @apollo/query-planner produces, which stock @apollo/gateway refuses:
 * the `primary` fetch is opened as a GraphQL-over-SSE stream on one healthy replica of its subgraph's
 * pool, and each event is completed by the `rest` plan (fields other subgraphs own) through the
 * ordinary data sources. General: any subgraph's subscription field. A stream whose replica dies is
 * resumed on another with the last event's id (`Last-Event-ID`), and ends with STREAM_INTERRUPTED
 * when it cannot be. Each result carries its event's id as `extensions.eventId`.
 */
export function createSubscriptionExecutor(options: SubscriptionExecutorOptions): Subscribe {
  const { supergraph } = options;
  const apiSchema = supergraph.apiSchema();
  const supergraphSchema = supergraph.schema.toGraphQLJSSchema();
  const planner = options.planner ?? new QueryPlanner(supergraph);
  const plans = new WeakMap<DocumentNode, Map<string, SubscriptionNode>>();
  // One event plan per subscription plan, so an executor that compiles plans does it once.
  const eventPlans = new WeakMap<SubscriptionNode, QueryPlan>();
  const eventPlanOf = (node: SubscriptionNode): QueryPlan => {
    let plan = eventPlans.get(node);
    if (!plan) eventPlans.set(node, (plan = { kind: 'QueryPlan', node: node.rest ? { kind: 'Sequence', nodes: [node.primary, node.rest] } : node.primary }));
    return plan;
  };

  const planOf = (document: DocumentNode, operationName: string | undefined): SubscriptionNode => {
    let byName = plans.get(document);
    if (!byName) plans.set(document, (byName = new Map()));
    let node = byName.get(operationName ?? '');
    if (!node) {
      const plan = planner.buildQueryPlan(operationFromDocument(apiSchema, document, { operationName }));
      if (plan.node?.kind !== 'Subscription') throw new Error('a subscription operation planned without a SubscriptionNode');
      byName.set(operationName ?? '', (node = plan.node));
    }
    return node;
  };

  return async (args) => {
    const context = args.contextValue as GatewayContext;
    const operationName = args.operationName ?? undefined;
    const variables = (args.variableValues ?? {}) as Record<string, unknown>;
    const node = planOf(args.document, operationName);
    const { primary } = node;
    const client = options.clients[primary.serviceName];
    if (!client) throw new Error(`no replica pool for subgraph ${primary.serviceName}`);
    const primaryVariables = pick(variables, primary.variableUsages);
    const body = JSON.stringify({ query: primary.operation, variables: primaryVariables, operationName: primary.operationName });
    // An opening may start work (a chat answer): only a declared-idempotent one with its key goes to a twin once it may have reached a replica.
    const shape = options.shapes.of(primary.operationDocumentNode, primary.operation);
    const kind = shape.idempotencyKeys && carriesIdempotencyKeys(shape.idempotencyKeys, primaryVariables) ? 'idempotent' : 'write';
    const abort = new AbortController();
    const onClientGone = () => abort.abort(context.signal?.reason);
    context.signal?.addEventListener('abort', onClientGone, { once: true });

    // Taken once: a stream re-opened on another replica continues the same trace.
    const traceHeaders = withTraceHeaders({});
    let events: Awaited<ReturnType<typeof openResumableEvents>>;
    try {
      // Once a replica has accepted the stream, not at its first event: the client gets its response
      // (headers, the stream) while the first event is being made.
      events = await openResumableEvents({
        lastEventId: context.lastEventId,
        reopenUnstarted: kind !== 'write',
        open: (lastEventId, exclude) =>
          openEventStream(client, body, { headers: { ...context.principalHeaders(), ...traceHeaders }, kind, lastEventId, exclude, signal: abort.signal }),
      });
    } catch (error) {
      context.signal?.removeEventListener('abort', onClientGone);
      const failure = error instanceof UpstreamError ? error.failure : { reason: 'network' as const, attempts: 1 };
      return { data: null, errors: [failed(primary, failure)] };
    }

    const plan = eventPlanOf(node);
    const operationContext = buildOperationContext({ schema: args.schema, operationDocument: args.document, operationName });
    const completeEvent = async (payload: Record<string, unknown>): Promise<ExecutionResult> => {
      if (options.executePlan) {
        const services = { ...options.dataSources(), [primary.serviceName]: replaying(primary, payload, options.dataSources()[primary.serviceName]) };
        return options.executePlan(plan, args, services);
      }
      const requestContext = {
        request: { query: primary.operation, variables, operationName },
        context,
        document: args.document,
        operation: operationContext.operation,
        operationName: operationName ?? null,
        metrics: {},
        logger: { debug() {}, info() {}, warn() {}, error() {} },
      } as unknown as GatewayGraphQLRequestContext;
      const serviceMap = { ...options.dataSources(), [primary.serviceName]: replaying(primary, payload, options.dataSources()[primary.serviceName]) };
      return executeQueryPlan(plan, serviceMap, requestContext, operationContext, supergraphSchema as unknown as GraphQLSchema, apiSchema);
    };

    async function* results(): AsyncGenerator<ExecutionResult> {
      try {
        for await (const event of events) {
          if (isInterrupted(event)) {
            yield { errors: [streamInterrupted(primary.serviceName, event.after)] };
            return;
          }
          const payload = parseGraphQLResponse(event.data);
          if (!payload) {
            yield { data: null, errors: [failed(primary, { reason: 'bad_response', attempts: 1 })] };
            continue;
          }
          // An event with errors only still goes through the plan, which keeps the subgraph's codes.
          const result = await completeEvent(payload as Record<string, unknown>);
          const eventId = event.id ?? (payload.extensions?.eventId as string | undefined);
          yield eventId ? { ...result, extensions: { ...result.extensions, eventId } } : result;
        }
      } finally {
        context.signal?.removeEventListener('abort', onClientGone);
        abort.abort(new DOMException('subscription ended', 'AbortError'));
        await events.return(undefined);
      }
    }
    return results();
  };
}

/**
 * The primary's data source, but its first call (the primary fetch itself, re-run by the plan) is
 * answered with the event that arrived; everything else goes to the real source.
 */
function replaying(primary: FetchNode, payload: Record<string, unknown>, real: GraphQLDataSource | undefined): GraphQLDataSource {
  let replayed = false;
  return {
    async process(processOptions) {
      if (!replayed && processOptions.request.query === primary.operation) {
        replayed = true;
        return { data: payload.data as Record<string, unknown>, errors: payload.errors as never };
      }
      if (!real) throw new Error(`no data source for ${primary.serviceName}`);
      return real.process(processOptions);
    },
  };
}

/** The primary's subgraph could not be streamed from: an error on the subscription's root field. */
function failed(primary: FetchNode, failure: UpstreamFailure) {
  const wire = downstreamError(primary.serviceName, failure, [rootKeyOf(primary)]);
  return relayedError(wire.message, { path: wire.path, extensions: wire.extensions });
}

/** The response key of the primary's root field (a subscription has exactly one). */
function rootKeyOf(primary: FetchNode): string {
  const operation = primary.operationDocumentNode?.definitions[0];
  const field = operation?.kind === 'OperationDefinition' ? operation.selectionSet.selections[0] : undefined;
  return field?.kind === 'Field' ? (field.alias ?? field.name).value : 'subscription';
}

function pick(values: Record<string, unknown>, names: readonly string[] | undefined): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const name of names ?? []) if (Object.hasOwn(values, name)) out[name] = values[name];
  return out;
}
