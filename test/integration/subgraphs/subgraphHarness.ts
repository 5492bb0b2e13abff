import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PRINCIPAL_HEADER, signPrincipal, type Principal } from '../../../lib/principal.ts';
import { createScratchDatabase } from '../../../scripts/scratchDatabase.ts';
import type { Store } from '../../../subgraphs/store/openDatabase.ts';
import type { Database } from '../../../subgraphs/store/tables.ts';
import { SubgraphName } from '../../../subgraphs/subgraphNames.ts';
import { startSubgraph, type RunningSubgraph } from '../../../subgraphs/subgraphServer.ts';
import { postGraphQL, type GraphQLHttpResult } from '../../support/graphqlClient.ts';

export const TEST_SECRET = 'subgraph-test-secret-0123456789';
export const TEST_DEMO_KEY = 'subgraph-demo-key-0123456789';

const TABLES: Array<keyof Database> = [
  'users', 'api_keys', 'quotas', 'articles', 'article_stats', 'orders', 'order_lines', 'models', 'conversations', 'messages', 'meta',
];

/** Signed principal header, as the router sends it. */
export function asPrincipal(principal: Principal, secret = TEST_SECRET): Record<string, string> {
  return { [PRINCIPAL_HEADER]: signPrincipal(principal, secret) };
}

export interface SubgraphHarness {
  store: Store;
  servers: Record<string, RunningSubgraph>;
  /** Store queries per table since the last reset (a query touching two tables counts for both). */
  queries: Record<string, number>;
  resetQueryCounts(): void;
  /** POSTs as the router would: signed anonymous unless `headers` say otherwise (`{}` sends it unsigned). */
  post(name: SubgraphName, query: string, variables?: Record<string, unknown>, headers?: Record<string, string>): Promise<GraphQLHttpResult>;
  /** Closes servers and store, drops the database and deletes its folder. */
  dispose(): Promise<void>;
}

/** Real subgraph servers on free ports over one fresh database (SQLite, or PostgreSQL with TEST_DATABASE=postgres). */
export async function startSubgraphs(names: SubgraphName[]): Promise<SubgraphHarness> {
  const dir = mkdtempSync(join(tmpdir(), 'subgraphs-test-'));
  const queries: Record<string, number> = {};
  const resetQueryCounts = () => {
    for (const table of TABLES) queries[table] = 0;
  };
  resetQueryCounts();
  const database = await createScratchDatabase(join(dir, 'store'));
  const store = await database.open({
    poolSize: 10,
    onQuery: (sql) => {
      for (const table of TABLES) if (sql.includes(`"${table}"`)) queries[table]++;
    },
  });
  const servers: Record<string, RunningSubgraph> = {};
  for (const name of names) {
    servers[name] = await startSubgraph({ name, port: 0, store, internalSecret: TEST_SECRET, demoApiKey: TEST_DEMO_KEY });
  }
  return {
    store,
    servers,
    queries,
    resetQueryCounts,
    post: (name, query, variables, headers = asPrincipal({ scopes: [] })) => postGraphQL(servers[name].url, { query, variables }, headers),
    async dispose() {
      await Promise.all(Object.values(servers).map((s) => s.close()));
      await store.close();
      await database.drop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
