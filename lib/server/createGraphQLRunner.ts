import { getOperationAST, getVariableValues, type DocumentNode, type ExecutionArgs, type ExecutionResult, type GraphQLError, type GraphQLSchema } from 'graphql';
import type { Logger } from 'pino';
import { badRequest, invalidVariables, missingQuery, mutationOverGet, operationResolutionFailure } from '../errors.ts';
import { endSpan, type OperationType } from '../observability/requestTelemetry.ts';
import { createDocumentCache, type DocumentCache } from './documentCache.ts';
import { refusedWith, type OperationAnswer, type OperationRequest } from './graphqlEndpoint.ts';
import { mapEvents } from './mapEvents.ts';
import { maskUnexpectedError } from './maskUnexpectedError.ts';

type MaybePromise<T> = T | Promise<T>;

export interface GraphQLRunnerOptions<TContext> {
  /** The schema a request validates and runs against, read once per request (hot reload swaps it). */
  schema(): GraphQLSchema;
  /** @default a document cache of graphql-js's rules */
  documents?: DocumentCache;
  /** The resolvers' context of one request. */
  context(request: OperationRequest): TContext;
  execute(args: ExecutionArgs): MaybePromise<ExecutionResult>;
  subscribe(args: ExecutionArgs): MaybePromise<AsyncIterable<ExecutionResult> | ExecutionResult>;
  /** What a client sees of an error. @default maskUnexpectedError */
  maskError?(error: unknown): GraphQLError;
  /**
   * Coerce the variables before `execute` (an executor that does not, like @apollo/gateway's, would
   * pass bad ones on to the subgraphs): a failure is BAD_USER_INPUT, 400 (200 for `application/json`).
   * @default false (graphql-js's execute coerces them itself)
   */
  coerceVariables?: boolean;
  /** Reshapes each subscription event before it is sent (its event id). @default none */
  onEvent?(context: TContext, result: ExecutionResult): ExecutionResult;
  logger: Logger;
}

/**
 * Runs a GraphQL request the way every gateway and subgraph does: the document parsed and validated
 * once per text (documentCache.ts), a mutation over GET refused (405), then execute or subscribe,
 * every error masked before a client sees it (the original logged). What graphql-yoga did for these
 * tiers, as one plain function and no plugin hooks.
 */
export function createGraphQLRunner<TContext>(options: GraphQLRunnerOptions<TContext>): (request: OperationRequest) => Promise<OperationAnswer> {
  const { logger, onEvent } = options;
  const documents = options.documents ?? createDocumentCache();
  const maskError = options.maskError ?? maskUnexpectedError;
  const masked = (result: ExecutionResult): ExecutionResult => {
    if (!result.errors?.length) return result;
    let changed = false;
    const errors = result.errors.map((error) => {
      const shown = maskError(error);
      if (shown !== error) {
        changed = true;
        if (shown.extensions?.code === 'INTERNAL_SERVER_ERROR') logger.error({ err: (error as { originalError?: unknown }).originalError ?? error }, error.message);
      }
      return shown;
    });
    // No data: nothing ran, so an error without a code is graphql-js's refusal of the variables.
    const refusal = !('data' in result) || result.data === undefined;
    const coded = refusal ? errors.map((e) => (e.extensions?.code ? e : ((changed = true), invalidVariables(e)))) : errors;
    return changed ? { ...result, errors: coded } : result;
  };

  return async (request) => {
    const { params, exchange, telemetry } = request;
    if (params.query === undefined) return refusedWith(missingQuery());
    const parseSpan = telemetry.span('graphql.parse');
    const document = documents.parse(params.query);
    const parsed = !(document instanceof Error);
    endSpan(parseSpan, !parsed);
    if (!parsed) return refusedWith(document as GraphQLError);
    const operation = getOperationAST(document as DocumentNode, params.operationName);
    if (!operation) return refusedWith(operationResolutionFailure(params.operationName ? `Unknown operation named "${params.operationName}".` : 'Must provide operation name if query contains multiple operations.'));
    const type = operation.operation as OperationType;
    const name = operation.name?.value ?? null;
    telemetry.operation(name, type);
    if (type === 'mutation' && exchange.method === 'GET') return refusedWith(mutationOverGet());
    const schema = options.schema();
    const validateSpan = telemetry.span('graphql.validate');
    const errors = documents.validate(schema, document as DocumentNode);
    endSpan(validateSpan, errors.length > 0);
    if (errors.length) return { kind: 'result', result: { errors: [...errors] } };
    if (options.coerceVariables) {
      const coerced = getVariableValues(schema, operation.variableDefinitions ?? [], params.variables ?? {}, { maxErrors: 25 });
      if (coerced.errors) return { kind: 'result', result: { errors: coerced.errors.map(invalidVariables) } };
    }
    if (type === 'subscription' && !request.streamAccepted) {
      return refusedWith(badRequest('A subscription is answered as a stream: send Accept: text/event-stream.', 406));
    }

    const contextValue = options.context(request);
    const args: ExecutionArgs = { schema, document: document as DocumentNode, operationName: params.operationName, variableValues: params.variables, contextValue };
    telemetry.executing(document as DocumentNode, name, type);
    try {
      if (type !== 'subscription') return { kind: 'result', result: masked(await options.execute(args)) };
      const result = await options.subscribe(args);
      if (!(Symbol.asyncIterator in (result as object))) return { kind: 'result', result: masked(result as ExecutionResult) };
      const events = mapEvents(result as AsyncIterable<ExecutionResult>, (event) => masked(onEvent ? onEvent(contextValue, event) : event));
      return { kind: 'stream', events: telemetry.stream(events) };
    } catch (error) {
      const shown = maskError(error);
      if (shown === error) return refusedWith(shown); // ours to say (a coded GraphQLError): as it stands
      // An operation that cannot be planned or executed (a planner that cannot plan it, an executor
      // bug) is that operation's own failure, HTTP 200: as a 500 the router counted it against the
      // gateway's health, and five in a row opened its breaker for every client (the federation audit).
      logger.error({ err: error, operation: params.operationName ?? undefined }, 'the operation failed in planning or execution; answered as its own error');
      return { kind: 'result', result: { data: null, errors: [shown] } };
    }
  };
}
