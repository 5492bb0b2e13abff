import {
  GraphQLError,
  execute as executeLocally,
  getVariableValues,
  type ExecutionArgs,
  type ExecutionResult,
} from 'graphql';
import type { Plugin } from 'graphql-yoga';
import type { Logger } from 'pino';
import { badRequest, invalidVariables, type UpstreamFailure } from '../../lib/errors.ts';
import type { StaleIfError } from '../../lib/fallback/staleIfError.ts';
import { PRINCIPAL_HEADER, principalSigner } from '../../lib/principal.ts';
import { SupergraphName } from '../../lib/topology/loadTopology.ts';
import { createDeadline } from '../../lib/upstream/deadline.ts';
import type { GraphQLResponse } from '../../lib/upstream/graphqlResponse.ts';
import { trace } from '@opentelemetry/api';
import { inClientSpan, inSpan } from '../../lib/observability/spans.ts';
import { withTraceHeaders } from '../../lib/observability/tracing.ts';
import type { UpstreamCallMetrics } from '../../lib/observability/upstreamCallMetrics.ts';
import type { GatewayClient } from '../gatewayClient.ts';
import { mergeResults, type PartOutcome } from '../mergeResults.ts';
import { partCallKind } from '../partCallKind.ts';
import { analyseOperation } from '../operationAnalysis.ts';
import type { RouterContext, RouterExecutionContext } from '../routerContext.ts';
import type { RoutingTable } from '../routingTable.ts';
import { splitOperation, type SubOperation } from '../splitOperation.ts';

export interface OperationRoutingOptions {
  routingTable: RoutingTable;
  /** One client per supergraph in the routing table. */
  gateways: Readonly<Record<SupergraphName, GatewayClient>>;
  /** Signs the principal forwarded to gateways. */
  internalSecret: string;
  /** Deadline of one gateway call. @default 10000 */
  gatewayTimeoutMs?: number;
  /** Stale-if-error for whole gateways, keyed by supergraph name. @default none */
  staleIfError?: StaleIfError;
  /** Runs subscriptions (routedSubscribe.ts). @default none: subscriptions are refused */
  subscribe?: (args: ExecutionArgs) => Promise<AsyncIterable<ExecutionResult> | ExecutionResult>;
  /** Count and duration of gateway calls by supergraph and outcome. @default none */
  callMetrics?: UpstreamCallMetrics;
  logger?: Logger;
}

/**
 * Replaces graphql execution with split → forward → merge: each supergraph gets the root fields it
 * owns (queries in parallel, mutations run by run in the client's order), the router answers root
 * introspection itself, and a failed gateway nulls only its own fields. Subscriptions go to the one
 * supergraph that owns their root field.
 */
export function useOperationRouting(options: OperationRoutingOptions): Plugin<RouterContext> {
  const execute = createRoutedExecute(options);
  return {
    onExecute({ setExecuteFn }) {
      setExecuteFn(execute);
    },
    onSubscribe({ setSubscribeFn }) {
      setSubscribeFn(options.subscribe ?? (() => ({ errors: [badRequest('Subscriptions are not served here.')] })));
    },
  };
}

/** The execute function behind useOperationRouting (exported for tests that skip yoga). */
export function createRoutedExecute(options: OperationRoutingOptions): (args: ExecutionArgs) => Promise<ExecutionResult> {
  const { routingTable, gateways, internalSecret, gatewayTimeoutMs = 10_000, logger, staleIfError, callMetrics } = options;
  const sign = principalSigner(internalSecret);

  return async function routedExecute(args) {
    const context = (args.contextValue ?? {}) as Partial<RouterExecutionContext>;
    const rawVariables = (args.variableValues ?? {}) as Record<string, unknown>;
    // The router's query plan: which supergraph answers which root fields, as one span.
    const planned = inSpan('router.plan', () => {
      let analysis;
      try {
        analysis = analyseOperation(routingTable, args.document, args.operationName);
      } catch (error) {
        if (error instanceof GraphQLError) return { errors: [error] };
        throw error;
      }
      const coerced = getVariableValues(routingTable.schema, analysis.operation.variableDefinitions ?? [], rawVariables, { maxErrors: 25 });
      if (coerced.errors) return { errors: coerced.errors.map(invalidVariables) };
      return splitOperation({
        document: args.document,
        operationName: args.operationName,
        variables: rawVariables,
        coercedVariables: coerced.coerced,
        query: typeof context.params?.query === 'string' ? context.params.query : undefined,
        routingTable,
      });
    });
    if ('errors' in planned) return planned;
    const plan = planned;
    const principal = context.principal ?? { scopes: [] };
    const clientSignal = context.request?.signal;
    const isMutation = plan.operationType === 'mutation';

    // One gateway call: a span (supergraph, attempts, fallback) and a timing by outcome.
    const forward = (part: SubOperation): Promise<PartOutcome> =>
      inClientSpan(`gateway ${part.supergraph}`, async (span) => {
        const started = performance.now();
        const outcome = await forwardPart(part);
        const kind = outcome.kind === 'answered' ? 'answered' : outcome.kind === 'fallback' ? 'fallback' : 'failed';
        callMetrics?.observe(part.supergraph, kind, (performance.now() - started) / 1_000);
        span?.setAttributes({
          'graphql.supergraph.name': part.supergraph,
          'supergraph.outcome': kind,
          ...(outcome.kind !== 'answered' ? { 'supergraph.attempts': outcome.failure.attempts, 'error.type': outcome.failure.reason } : {}),
          ...(outcome.kind === 'fallback' ? { 'supergraph.fallback': outcome.fallback.source } : {}),
        });
        return outcome;
      });

    const forwardPart = async (part: SubOperation): Promise<PartOutcome> => {
      const common = { supergraph: part.supergraph, responseKeys: part.responseKeys };
      const target = {
        upstream: part.supergraph,
        query: part.query,
        variablesJson: JSON.stringify(part.variables),
        isMutation,
        isPublic: part.isPublic,
        principalId: principal.userId,
      };
      const key = staleIfError?.keyFor(target);
      const failed = async (failure: UpstreamFailure): Promise<PartOutcome> => {
        const recovered = await staleIfError?.recover(target, key, {
          message: `The ${part.supergraph} supergraph is unavailable; its fields are empty for now.`,
          data: () => null,
        });
        return recovered ? { ...common, kind: 'fallback', failure, ...recovered } : { ...common, kind: 'failed', failure };
      };
      const gateway = gateways[part.supergraph];
      if (!gateway) return failed({ reason: 'network', attempts: 0 });
      const deadline = createDeadline(gatewayTimeoutMs, clientSignal);
      // Taken per gateway call, not per operation: a token (reused for at most 10 s) covers one call
      // and its retry, however many mutation runs come before it.
      const principalToken = sign(principal);
      try {
        const outcome = await gateway.execute(
          { query: part.query, variables: part.variables, operationName: part.operationName, headers: withTraceHeaders({ [PRINCIPAL_HEADER]: principalToken }) },
          deadline.signal,
          { kind: partCallKind(part, plan.operationType, routingTable) },
        );
        if (outcome.ok) {
          trace.getActiveSpan()?.setAttribute('supergraph.attempts', outcome.attempts);
          if (outcome.raw !== undefined) staleIfError?.rememberBody(key, outcome.raw);
          else staleIfError?.remember(key, outcome.result.data, Boolean(outcome.result.errors?.length));
          // The client's own text went through unchanged: relayed error locations point into it.
          return { ...common, kind: 'answered', result: outcome.result, raw: outcome.raw, passthroughSource: plan.passthrough ? part.query : undefined };
        }
        logger?.warn({ supergraph: part.supergraph, ...outcome.failure, detail: outcome.detail }, 'gateway call failed');
        return await failed(outcome.failure);
      } catch (error) {
        // The client went away: nobody is waiting for an answer, let yoga drop the request.
        if (clientSignal?.aborted) throw error;
        // A client bug must not take the other supergraphs' answers with it.
        logger?.error({ err: error, supergraph: part.supergraph }, 'gateway client threw');
        return await failed({ reason: 'network', attempts: 1 });
      } finally {
        deadline.dispose();
      }
    };

    // One supergraph answered cleanly with the client's own operation: its bytes are the answer,
    // sent on without being parsed and serialised again (its data is parsed only if a plugin reads it).
    if (plan.passthrough && !plan.local && !context.requestErrors?.length) {
      const [part] = plan.parts;
      const outcome = await forward(part);
      if (outcome.kind === 'answered' && outcome.raw !== undefined) return passedOn(outcome.result, outcome.raw);
      return mergeResults({ rootFields: plan.rootFields, parts: [outcome], extraErrors: context.requestErrors });
    }

    let outcomes: PartOutcome[];
    if (isMutation) {
      // Mutation fields have side effects in the client's order: one run at a time, even when a
      // run fails (its fields are null; graphql-js would also carry on with the next root field).
      outcomes = [];
      for (const part of plan.parts) outcomes.push(await forward(part));
    } else {
      outcomes = await Promise.all(plan.parts.map(forward));
    }

    const local = plan.local && {
      responseKeys: plan.local.responseKeys,
      result: await executeLocally({
        schema: routingTable.schema,
        document: plan.local.document,
        variableValues: plan.local.variables,
        operationName: plan.local.operationName,
        contextValue: context,
      }),
    };
    return mergeResults({ rootFields: plan.rootFields, parts: outcomes, local, extraErrors: context.requestErrors });
  };
}

/**
 * An answer whose bytes are already what the client gets: yoga serialises a result with its own
 * `stringify` when it has one, and `data` (a lazy getter) is parsed only if a plugin reads it.
 */
function passedOn(result: GraphQLResponse, raw: string): ExecutionResult {
  const answer = { get data() { return result.data; } };
  return Object.defineProperty(answer, 'stringify', { value: () => raw, enumerable: false }) as ExecutionResult;
}
