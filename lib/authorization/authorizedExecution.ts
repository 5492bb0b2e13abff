import type { DocumentNode, ExecutionArgs, ExecutionResult } from 'graphql';
import { withDenials } from './applyDenials.ts';
import type { AuthorizationRules, Caller } from './authorizationRules.ts';
import { authorizeOperation, type AuthorizedOperation } from './authorizeOperation.ts';

type Execute = (args: ExecutionArgs) => Promise<ExecutionResult>;
type Subscribe = (args: ExecutionArgs) => Promise<AsyncIterable<ExecutionResult> | ExecutionResult>;

/**
 * A gateway's execute and subscribe with the authorization directives checked again on the caller the
 * router signed: the router already took out what the caller may not see, so this changes nothing
 * for a router doing its job; for anything else that reaches the gateway with a valid signature it
 * is the same rule, not the router's word for it. Filtered documents are kept per document and kind
 * of caller, so plan caches keyed by the document still hit.
 */
export function withAuthorization(rules: AuthorizationRules, callerOf: (context: unknown) => Caller, run: { execute: Execute; subscribe: Subscribe }): { execute: Execute; subscribe: Subscribe } {
  if (rules.empty) return run;
  const byDocument = new WeakMap<DocumentNode, Map<string, AuthorizedOperation>>();
  const authorize = (args: ExecutionArgs): AuthorizedOperation => {
    const caller = callerOf(args.contextValue);
    const key = `${args.operationName ?? ''}\n${caller.authenticated ? [...caller.scopes].sort().join(' ') : '\0anonymous'}`;
    let known = byDocument.get(args.document);
    if (!known) byDocument.set(args.document, (known = new Map()));
    let authorized = known.get(key);
    if (!authorized) {
      if (known.size > 32) known.clear();
      known.set(key, (authorized = authorizeOperation(args.schema, rules, args.document, args.operationName, caller)));
    }
    return authorized;
  };
  return {
    async execute(args) {
      const authorized = authorize(args);
      if (!authorized.denied.length) return run.execute(args);
      return withDenials(await run.execute({ ...args, document: authorized.document }), authorized);
    },
    async subscribe(args) {
      const authorized = authorize(args);
      if (!authorized.denied.length) return run.subscribe(args);
      const events = await run.subscribe({ ...args, document: authorized.document });
      if (!(Symbol.asyncIterator in events)) return withDenials(events, authorized);
      return (async function* () {
        for await (const event of events) yield withDenials(event, authorized);
      })();
    },
  };
}
