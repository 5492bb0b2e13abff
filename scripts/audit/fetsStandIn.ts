// What the audit's `import … from "fets"` resolves to (auditModuleHooks.ts). Its suites use fets for
// two things only: `Response` (WHATWG, as fets re-exports it) to answer the supergraph and test-list
// routes, and the router type their `createRoutes(router)` takes, which auditSuites.ts passes in. Its
// server (the audit's index.ts and cli.ts, which build a real fets router) is never loaded.

/** The WHATWG Response fets re-exports: Node's own. */
export const Response = globalThis.Response;

/** Never called by the suites; only the audit's own server builds a fets router. */
export function createRouter(): never {
  throw new Error('the federation audit runner serves the suites itself; fets is not installed');
}
