import { Kind, OperationTypeNode, parse, type DocumentNode, type OperationDefinitionNode } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import { unsignedRequest } from '../errors.ts';
import { requestPrincipal } from './requestPrincipal.ts';

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

/** An open operation is a handful of tokens; anything longer is not one and is never parsed unsigned. */
const OPEN_OPERATION_MAX_TOKENS = 100;

/**
 * Gateways and subgraphs are internal: they answer only GraphQL requests that carry a principal
 * signed by the router (a user's, or the signed anonymous marker the router sends for anonymous
 * callers), and refuse anything else with 401 UNAUTHENTICATED, public fields included. Health,
 * readiness and the loopback-only operator endpoints are answered before this plugin runs.
 *
 * The check runs before the body is read, so an unsigned flood costs a header lookup; only a
 * service with `openRootFields` reads an unsigned body, to see whether it asks for those alone.
 */
export function useRouterSignature({ secrets, openRootFields = [], now = Date.now }: RouterSignatureOptions): Plugin {
  const signed = new WeakSet<Request>();
  const open = new Set(openRootFields);
  return {
    onRequestParse({ request }) {
      if (requestPrincipal(request, secrets, now())) {
        signed.add(request);
        return;
      }
      if (open.size === 0) throw unsignedRequest();
    },
    onParams({ request, params }) {
      if (signed.has(request)) return;
      if (!asksOnlyFor(open, params.query, params.operationName)) throw unsignedRequest();
    },
  };
}

/** Whether the document is a query selecting open root fields and nothing else (`__typename` aside). */
function asksOnlyFor(open: ReadonlySet<string>, query: unknown, operationName: string | undefined): boolean {
  if (typeof query !== 'string') return false;
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
