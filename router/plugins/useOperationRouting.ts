import {
  GraphQLError,
  execute as executeLocally,
  getVariableValues,
  type ExecutionArgs,
  type ExecutionResult,
} from 'graphql';
import type { Plugin } from 'graphql-yoga';
import type { Logger } from 'pino';
import { createDeadline } from '../../lib/upstream/deadline.ts';
import { ErrorCode, badRequest, type FailureReason } from '../../lib/errors.ts';
import { PRINCIPAL_HEADER, signPrincipal } from '../../lib/principal.ts';
import type { SupergraphName } from '../../lib/topology.ts';
import type { GatewayClient } from '../gatewayClient.ts';
import type { GatewayFallback } from '../gatewayFallback.ts';
import { mergeResults, type PartOutcome } from '../mergeResults.ts';
import type { RouterContext, RouterExecutionContext } from '../routerContext.ts';
import type { RoutingTable } from '../routingTable.ts';
import { findOperation, splitOperation, type SubOperation } from '../splitOperation.ts';

export interface OperationRoutingOptions {
  routingTable: RoutingTable;
  /** One client per supergraph in the routing table. */
  gateways: Readonly<Record<SupergraphName, GatewayClient>>;
  /** Signs the principal forwarded to gateways. */
  internalSecret: string;
  /** Deadline of one gateway call. @default 10000 */
  gatewayTimeoutMs?: number;
  /** Stale-if-error for whole gateways. @default none */
  fallback?: GatewayFallback;
  logger?: Logger;
}

/**
 * Replaces graphql execution with split → forward → merge: each supergraph gets the root fields it
 * owns (queries in parallel, mutations run by run in the client's order), the router answers root
 * introspection itself, and a failed gateway nulls only its own fields.
 */
export function useOperationRouting(options: OperationRoutingOptions): Plugin<RouterContext> {
  const execute = createRoutedExecute(options);
  return {
    onExecute({ setExecuteFn }) {
      setExecuteFn(execute);
    },
    onSubscribe({ setSubscribeFn }) {
      setSubscribeFn(() => ({ errors: [badRequest('Subscriptions are not available yet.')] }));
    },
  };
}

/** The execute function behind useOperationRouting (exported for tests that skip yoga). */
export function createRoutedExecute(options: OperationRoutingOptions): (args: ExecutionArgs) => Promise<ExecutionResult> {
  const { routingTable, gateways, internalSecret, gatewayTimeoutMs = 10_000, logger, fallback } = options;

  return async function routedExecute(args) {
    const context = (args.contextValue ?? {}) as Partial<RouterExecutionContext>;
    const rawVariables = (args.variableValues ?? {}) as Record<string, unknown>;
    let operation;
    try {
      operation = findOperation(args.document, args.operationName);
    } catch (error) {
      if (error instanceof GraphQLError) return { errors: [error] };
      throw error;
    }
    const coerced = getVariableValues(routingTable.schema, operation.variableDefinitions ?? [], rawVariables, { maxErrors: 25 });
    if (coerced.errors) return { errors: coerced.errors.map(asBadUserInput) };

    const plan = splitOperation({
      document: args.document,
      operationName: args.operationName,
      variables: rawVariables,
      coercedVariables: coerced.coerced,
      query: typeof context.params?.query === 'string' ? context.params.query : undefined,
      routingTable,
    });
    const principalToken = signPrincipal(context.principal ?? { scopes: [] }, internalSecret);
    const clientSignal = context.request?.signal;
    const isMutation = plan.operationType === 'mutation';
    const fieldNameByKey = new Map(plan.rootFields.map((f) => [f.responseKey, f.fieldName]));
    const fieldNamesOf = (keys: readonly string[]) => keys.map((k) => fieldNameByKey.get(k) ?? k);

    const forward = async (part: SubOperation): Promise<PartOutcome> => {
      const common = {
        supergraph: part.supergraph,
        responseKeys: part.responseKeys,
        passthroughSource: plan.passthrough ? part.query : undefined,
      };
      const gateway = gateways[part.supergraph];
      if (!gateway) return { ...common, ok: false, reason: 'network', attempts: 0 };
      const target = { ...part, fieldNames: fieldNamesOf(part.responseKeys) };
      const cacheKey = fallback?.keyFor(target, context.principal, isMutation);
      const failed = async (failure: { reason: FailureReason; attempts: number }): Promise<PartOutcome> => {
        const recovered = await fallback?.recover(target, cacheKey, failure, isMutation);
        // A served fallback keeps its own errors (with extensions.fallback); not a relayed passthrough.
        if (recovered) return { ...common, passthroughSource: undefined, ok: true, result: recovered };
        return { ...common, ok: false, ...failure };
      };
      const deadline = createDeadline(gatewayTimeoutMs, clientSignal);
      try {
        const outcome = await gateway.execute(
          { query: part.query, variables: part.variables, operationName: part.operationName, headers: { [PRINCIPAL_HEADER]: principalToken } },
          deadline.signal,
          { idempotent: !isMutation },
        );
        if (outcome.ok) {
          fallback?.remember(cacheKey, outcome.result);
          return { ...common, ok: true, result: outcome.result };
        }
        logger?.warn({ supergraph: part.supergraph, reason: outcome.reason, attempts: outcome.attempts, detail: outcome.detail }, 'gateway call failed');
        return await failed(outcome);
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

/** Variable coercion failures are the client's: 400 BAD_USER_INPUT rather than a bare 200. */
function asBadUserInput(error: GraphQLError): GraphQLError {
  return new GraphQLError(error.message, {
    nodes: error.nodes,
    source: error.source,
    positions: error.positions,
    extensions: { ...error.extensions, code: ErrorCode.BAD_USER_INPUT, http: { status: 400 } },
  });
}
