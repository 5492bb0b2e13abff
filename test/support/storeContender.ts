import { GenerationLeases } from '../../subgraphs/chat/generationLeases.ts';
import { StoreChunkLog } from '../../subgraphs/chat/chunkLog/storeChunkLog.ts';
import { placeOrder } from '../../subgraphs/orders/placeOrder.ts';
import { reserveTokens } from '../../subgraphs/quota/tokenLedger.ts';
import { inTransaction } from '../../subgraphs/store/inTransaction.ts';
import { openDatabase } from '../../subgraphs/store/openDatabase.ts';

/**
 * One "replica" contending for the store, in a process of its own (as a replica on another machine
 * would be): its own connection pool or SQLite handle, the real store functions the subgraphs call.
 * The parent test sends every contender the same scenario at once over IPC and checks the store's
 * invariants afterwards. Run by storeConcurrency.test.ts, not by hand.
 */
export type Scenario = 'sameIdempotencyKey' | 'lastStock' | 'quota' | 'lease' | 'chunks';
export type Outcome = { ok: true; value: unknown } | { ok: false; code: string };

const id = process.env.CONTENDER_ID ?? '0';
const store = await openDatabase(process.env.DATABASE_URL ? { url: process.env.DATABASE_URL, poolSize: 5 } : { path: process.env.DATABASE_PATH! });

async function outcome(work: () => Promise<unknown>): Promise<Outcome> {
  try {
    return { ok: true, value: await work() };
  } catch (error) {
    const code = (error as { extensions?: { code?: string }; code?: string }).extensions?.code ?? (error as { code?: string }).code ?? String(error);
    return { ok: false, code };
  }
}

const times = <T>(n: number, make: (i: number) => Promise<T>) => Promise.all(Array.from({ length: n }, (_, i) => make(i)));

const scenarios: Record<Scenario, () => Promise<Outcome[]>> = {
  sameIdempotencyKey: () =>
    times(5, () => outcome(async () => (await placeOrder(store.db, 'u2', { idempotencyKey: 'race-key', lines: [{ articleId: 'a1', quantity: 1 }] })).id)),
  lastStock: () =>
    times(10, (i) => outcome(async () => (await placeOrder(store.db, 'u4', { idempotencyKey: `c${id}-${i}`, lines: [{ articleId: 'a2', quantity: 1 }] })).id)),
  quota: () => times(10, () => outcome(() => inTransaction(store.db, (trx) => reserveTokens(trx, 'u3', { min: 100, max: 100 })))),
  lease: () => times(1, () => outcome(async () => (await new GenerationLeases(store.db, `owner-${id}`, 60_000, Date.now).acquire('msg-race')) !== undefined)),
  chunks: async () => {
    const log = new StoreChunkLog(store.db);
    const appended: Outcome[] = [];
    for (let index = 0; index < 20; index++) {
      appended.push(await outcome(() => log.append('msg-race', { index, delta: `${index} `, done: false })));
    }
    return appended;
  },
};

process.on('message', (message: { scenario: Scenario } | 'close') => {
  if (message === 'close') {
    void store.close().then(() => process.disconnect());
    return;
  }
  void scenarios[message.scenario]().then((outcomes) => process.send!({ scenario: message.scenario, outcomes }));
});
process.send!('ready');
