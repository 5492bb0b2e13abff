import type { InitializeHook, ResolveHook } from 'node:module';

// Module hooks for the audit's TypeScript, registered by registerAuditModules.ts; they run on Node's
// hooks thread, so they share nothing with the script but the data handed to initialize().

/** What registerAuditModules hands the hooks. */
export interface AuditModuleHooksData {
  /** file: URL of the audit's `src/` folder, ending in `/`. */
  auditSourceUrl: string;
  /** file: URL of a file at our repository's root: bare packages resolve from there. */
  ownRootUrl: string;
  /** Bare specifiers answered by modules of ours, e.g. `fets` (which we do not install). */
  standIns: Record<string, string>;
}

let data: AuditModuleHooksData | undefined;

/** Receives the audit's location and the stand-ins (module.register's `data`). */
export const initialize: InitializeHook<AuditModuleHooksData> = (given) => {
  data = given;
};

/** A package name (`graphql`, `@apollo/subgraph/…`), not a path, URL or builtin. */
function isBare(specifier: string): boolean {
  return !/^(\.|\/|[a-z][a-z0-9+.-]*:)/i.test(specifier);
}

/**
 * The audit's files import packages by name; they resolve from our root, so the suites run on our
 * graphql, @apollo/subgraph and graphql-yoga (one graphql realm with the rest of the script), never on
 * packages the audit checkout may have installed next to itself.
 */
export const resolve: ResolveHook = (specifier, context, nextResolve) => {
  if (data && context.parentURL?.startsWith(data.auditSourceUrl) && isBare(specifier)) {
    const standIn = data.standIns[specifier];
    // Through the rest of the chain, so tsx loads the stand-in (TypeScript) as it loads ours.
    return standIn ? nextResolve(standIn, context) : nextResolve(specifier, { ...context, parentURL: data.ownRootUrl });
  }
  return nextResolve(specifier, context);
};
