import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { registerAuditModules } from './registerAuditModules.ts';

/** One case of a suite, as the audit writes it (its testkit's `createTest`). */
export interface AuditTestCase {
  query: string;
  /** `errors` absent: errors are not compared; true/false: the answer must (not) carry errors. */
  expected: { data?: unknown; errors?: boolean };
}

type RouteHandler = (request: Request & { parsedUrl: URL }) => Response | Promise<Response>;

/** One audit suite: its subgraphs as HTTP routes, its supergraph and its cases. */
export interface AuditSuite {
  id: string;
  /** The suite's routes by `METHOD /path` (`POST /<id>/<subgraph>` and the rest), as the audit's server mounts them. */
  routes: ReadonlyMap<string, (request: Request) => Promise<Response>>;
  /** The supergraph SDL, composed by the suite with its subgraphs at `${origin}/<id>/<subgraph>`. */
  supergraphSdl(origin: string): Promise<string>;
  /** The cases, built anew on each call (some suites make ids per run, e.g. `mutations`). */
  tests(): Promise<AuditTestCase[]>;
}

/** The suite ids of an audit checkout: the folders of `src/test-suites/` with an index.ts, sorted as the audit sorts them. */
export function listAuditSuiteIds(sourceDir: string): string[] {
  const root = join(sourceDir, 'test-suites');
  return readdirSync(root, { withFileTypes: true })
    .filter((entry) => entry.isDirectory() && existsSync(join(root, entry.name, 'index.ts')))
    .map((entry) => entry.name)
    .sort((a, b) => a.localeCompare(b));
}

/**
 * Imports one suite's TypeScript (`src/test-suites/<id>/index.ts`) and records the routes its
 * `createRoutes(router)` mounts, through a router of ours that only records them.
 */
export async function loadAuditSuite(sourceDir: string, id: string): Promise<AuditSuite> {
  registerAuditModules(sourceDir);
  const module = (await import(pathToFileURL(join(sourceDir, 'test-suites', id, 'index.ts')).href)) as {
    default: { id: string; createRoutes(router: unknown): unknown };
  };
  const suite = module.default;
  if (suite?.id !== id || typeof suite.createRoutes !== 'function') {
    throw new Error(`src/test-suites/${id}/index.ts does not export the suite "${id}" (it exports ${JSON.stringify(suite?.id)})`);
  }
  const routes = new Map<string, (request: Request) => Promise<Response>>();
  const router = {
    route(definition: { method: string; path: string; handler: RouteHandler }) {
      // The fets request the handlers expect: a WHATWG Request with its parsed URL beside it (the
      // server adapter's requests have one already; a Request made here does not).
      routes.set(`${definition.method.toUpperCase()} ${definition.path}`, async (request) =>
        definition.handler('parsedUrl' in request ? (request as Request & { parsedUrl: URL }) : Object.assign(request, { parsedUrl: new URL(request.url) })),
      );
      return router;
    },
  };
  suite.createRoutes(router);
  const call = async (method: string, path: string, origin = 'http://127.0.0.1') => {
    const handler = routes.get(`${method} ${path}`);
    if (!handler) throw new Error(`suite ${id} has no route ${method} ${path}`);
    const response = await handler(new Request(`${origin}${path}`, { method }));
    if (!response.ok) throw new Error(`suite ${id}: ${method} ${path} answered ${response.status}: ${await response.text()}`);
    return response;
  };
  return {
    id,
    routes,
    supergraphSdl: async (origin) => (await call('GET', `/${id}/supergraph`, origin)).text(),
    tests: async () => (await (await call('GET', `/${id}/tests`)).json()) as AuditTestCase[],
  };
}
