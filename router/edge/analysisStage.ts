import type { DocumentNode, GraphQLError, ValidationRule } from 'graphql';
import { ErrorCode, missingQuery, mutationOverGet, operationLimitExceeded, parseFailed } from '../../lib/errors.ts';
import { endSpan, type OperationType } from '../../lib/observability/requestTelemetry.ts';
import { createDocumentCache } from '../../lib/server/documentCache.ts';
import { refusedWith } from '../../lib/server/graphqlEndpoint.ts';
import { findOperation } from '../operationAnalysis.ts';
import type { RoutingTable } from '../routingTable.ts';
import type { EdgeStage } from './edgeRequest.ts';

export interface AnalysisStageOptions {
  routingTable: RoutingTable;
  /** Rules beyond graphql-js's own: the operation limits, the depth limit, introspection off. */
  rules: readonly ValidationRule[];
  /** Tokens a document may have: parsing stops at the limit, so a huge document costs little. */
  maxTokens: number;
  /** Distinct documents kept parsed and validated. @default 1000 */
  maxDocuments?: number;
}

/**
 * Reads the operation, once per distinct document: the text is parsed (stopping at `maxTokens`,
 * MAX_TOKENS_LIMIT) and validated against the public schema with the edge's rules, and both
 * results are cached by text (documentCache.ts), so a repeated operation costs a map lookup. The
 * operation to run must be there (OPERATION_RESOLUTION_FAILURE), and a mutation is never run from a
 * GET (405). Every later stage finds the document and operation on the request.
 */
export function createAnalysisStage({ routingTable, rules, maxTokens, maxDocuments }: AnalysisStageOptions): EdgeStage {
  const documents = createDocumentCache({ max: maxDocuments, rules, maxTokens, parseError: tokenLimitOr });
  return (request) => {
    const { params, source } = request;
    if (params.query === undefined) return refusedWith(missingQuery());
    const telemetry = source.telemetry;
    const parseSpan = telemetry.span('graphql.parse');
    const document = documents.parse(params.query);
    const failed = document instanceof Error;
    endSpan(parseSpan, failed);
    if (failed) return refusedWith(document as GraphQLError);
    let operation;
    try {
      operation = findOperation(document as DocumentNode, params.operationName);
    } catch (error) {
      return refusedWith(error as GraphQLError);
    }
    telemetry.operation(operation.name?.value ?? null, operation.operation as OperationType);
    if (operation.operation === 'mutation' && source.method === 'GET') return refusedWith(mutationOverGet());
    const validateSpan = telemetry.span('graphql.validate');
    const errors = documents.validate(routingTable.schema, document as DocumentNode);
    endSpan(validateSpan, errors.length > 0);
    if (errors.length) return { kind: 'result', result: { errors: [...errors] } };
    request.document = document as DocumentNode;
    request.operation = operation;
    return undefined;
  };
}

/**
 * graphql-js 16 says "more that N tokens", 17 "more than": matched by message, not class (the
 * parser's GraphQLError may come from another copy of graphql; vitest loads two). Not a client's
 * syntax mistake, so it keeps its 400 like the other limits, whatever the client accepts.
 */
function tokenLimitOr(error: GraphQLError): GraphQLError {
  const limit = /contains more th(?:an|at) (\d+) tokens/.exec(error.message);
  if (!limit) return parseFailed(error);
  return operationLimitExceeded(ErrorCode.MAX_TOKENS_LIMIT, `The document has more than ${limit[1]} tokens.`, { limit: Number(limit[1]) });
}
