import { Kind, print, type DocumentNode, type OperationDefinitionNode } from 'graphql';
import type { AuthorizationRules } from '../../lib/authorization/authorizationRules.ts';
import { authorizeOperation, type AuthorizedOperation } from '../../lib/authorization/authorizeOperation.ts';
import type { RoutingTable } from '../routingTable.ts';
import type { EdgeStage } from './edgeRequest.ts';
import { withDenials } from '../../lib/authorization/applyDenials.ts';

/** An operation as one kind of caller may run it, with its text for the gateway. */
type Authorized = AuthorizedOperation & { text?: string; operation?: OperationDefinitionNode };

/**
 * Field-level authorization before any gateway is called, as Apollo Router does it: the fields of
 * the operation the caller may not see (`@authenticated`, `@requiresScopes` in the subgraph SDLs,
 * read from the composed supergraphs) are taken out, the rest goes on, and the answer gets null and
 * an UNAUTHORIZED_FIELD_OR_TYPE error in their place (applied where the answer is made). Worked out
 * once per document and kind of caller (anonymous, or a set of scopes): most callers are one of few.
 */
export function createAuthorizationStage(routingTable: RoutingTable, rules: AuthorizationRules): EdgeStage | undefined {
  if (rules.empty) return undefined;
  const byDocument = new WeakMap<DocumentNode, Map<string, Authorized>>();
  return (request) => {
    const document = request.document!;
    const { principal } = request;
    const authenticated = principal.userId !== undefined;
    const key = `${request.params.operationName ?? ''}\n${authenticated ? [...principal.scopes].sort().join(' ') : '\0anonymous'}`;
    let known = byDocument.get(document);
    if (!known) byDocument.set(document, (known = new Map()));
    let authorized = known.get(key);
    if (!authorized) {
      const result: Authorized = authorizeOperation(routingTable.schema, rules, document, request.params.operationName, { authenticated, scopes: new Set(principal.scopes) });
      if (result.denied.length) {
        result.text = print(result.document);
        result.operation = result.document.definitions.find((d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION);
      }
      // A document seen with many scope sets keeps its latest few (a key's scopes rarely change).
      if (known.size > 32) known.clear();
      known.set(key, (authorized = result));
    }
    if (!authorized.denied.length) return undefined;
    // Nothing left to ask (a subscription could not even ask `__typename`): the denials are the answer.
    if (authorized.nothingLeft) return { kind: 'result', result: withDenials({ data: {} }, authorized) };
    request.document = authorized.document;
    request.operation = authorized.operation;
    // What the gateway is sent is the filtered text, never the client's own.
    request.params = { ...request.params, query: authorized.text };
    request.denials = authorized;
    return undefined;
  };
}
