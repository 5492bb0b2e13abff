import { Kind, OperationTypeNode, parse, type DocumentNode, type GraphQLError, type OperationDefinitionNode } from 'graphql';
import { unsignedRequest } from '../errors.ts';
import type { GraphQLParams } from './graphqlParams.ts';
import { requestPrincipal } from './requestPrincipal.ts';
import type { ServerExchange } from './serverExchange.ts';

export interface RouterSignatureOptions {
  /** Secrets a signature may be made with: the current one first, the previous one during a rotation. */
  secrets: readonly string[];
  /**
   * Root query fields an unsigned caller may ask for, alone and with nothing else (a subgraph's
   * `_service`, which `rover subgraph introspect` reads). @default none
   */
  openRootFields?: readonly string[];
  /** @default Date.now */
  now?: () => number;
}

/** The two moments the signature is checked: from the headers, and (for open fields) once the parameters are read. */
export interface RouterSignature {
  /** Refuses an unsigned request before its body is read, unless it may be asking for open fields only. */
  screen(exchange: ServerExchange): GraphQLError | undefined;
  /** Refuses an unsigned request that asks for more than the open fields. */
  check(exchange: ServerExchange, params: GraphQLParams): GraphQLError | undefined;
}

/** An open operation is a handful of tokens; anything longer is not one and is never parsed unsigned. */
const OPEN_OPERATION_MAX_TOKENS = 100;

/**
 * Gateways and subgraphs are internal: they answer only GraphQL requests that carry a principal
 * signed by the router (a user's, or the signed anonymous marker the router sends for anonymous
 * callers), and refuse anything else with 401 UNAUTHENTICATED, public fields included. Health and
 * readiness are answered before this runs.
 *
 * The check runs before the body is read, so an unsigned flood costs a header lookup; only a
 * service with `openRootFields` reads an unsigned body, to see whether it asks for those alone.
 */
export function createRouterSignature({ secrets, openRootFields = [], now = Date.now }: RouterSignatureOptions): RouterSignature {
  const open = new Set(openRootFields);
  const signed = (exchange: ServerExchange) => requestPrincipal(exchange, secrets, now()) !== undefined;
  return {
    screen(exchange) {
      if (open.size === 0 && !signed(exchange)) return unsignedRequest();
      return undefined;
    },
    check(exchange, params) {
      if (signed(exchange) || asksOnlyFor(open, params.query, params.operationName)) return undefined;
      return unsignedRequest();
    },
  };
}

/** Whether the document is a query selecting open root fields and nothing else (`__typename` aside). */
function asksOnlyFor(open: ReadonlySet<string>, query: unknown, operationName: string | undefined): boolean {
  if (open.size === 0 || typeof query !== 'string') return false;
  let document: DocumentNode;
  try {
    document = parse(query, { noLocation: true, maxTokens: OPEN_OPERATION_MAX_TOKENS });
  } catch {
    return false;
  }
  if (document.definitions.some((d) => d.kind !== Kind.OPERATION_DEFINITION)) return false;
  const operations = document.definitions as OperationDefinitionNode[];
  const operation = operationName ? operations.find((o) => o.name?.value === operationName) : operations.length === 1 ? operations[0] : undefined;
  if (!operation || operation.operation !== OperationTypeNode.QUERY) return false;
  const fields = operation.selectionSet.selections;
  return (
    fields.every((s) => s.kind === Kind.FIELD && (open.has(s.name.value) || s.name.value === '__typename')) &&
    fields.some((s) => s.kind === Kind.FIELD && open.has(s.name.value))
  );
}
