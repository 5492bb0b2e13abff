import { fork, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createScratchDatabase, type ScratchDatabase } from '../../../scripts/scratchDatabase.ts';
import type { Store } from '../../../subgraphs/store/openDatabase.ts';
import type { Outcome, Scenario } from '../../support/storeContender.ts';

// Replicas on several machines share one database: four processes, each with its own pool (or SQLite
// handle), run the store functions the subgraphs call at the same moment, and the store's
// invariants must hold afterwards. TEST_DATABASE=postgres runs the same against PostgreSQL.
const CONTENDERS = 4;
let dir: string;
let database: ScratchDatabase;
let store: Store;
const contenders: ChildProcess[] = [];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'store-race-'));
  database = await createScratchDatabase(dir);
  store = await database.open();
  const nextMonth = new Date(Date.now() + 30 * 86_400_000).toISOString();
  await store.db.updateTable('articles').set({ stock: 25 }).where('id', '=', 'a2').execute();
  await store.db.updateTable('quotas').set({ used: 0, limit: 2_000, resets_at: nextMonth }).where('user_id', '=', 'u3').execute();
  await store.db.insertInto('chat_generations').values({
    message_id: 'msg-race', conversation_id: 'c1', user_id: 'u1', model_id: 'm-small', assistant_position: 2, request: '[]', cache_key: 'k',
    cached: 0, prompt_tokens: 1, max_tokens: 10, state: 'interrupted', lease_owner: null, lease_expires_at: 0, watched_until: 0,
    reserved_tokens: 0, charged_tokens: 0, completion_tokens: 0, finish_reason: null, started_at: Date.now(),
  }).execute();
  for (let i = 0; i < CONTENDERS; i++) {
    const child = fork(join(import.meta.dirname, '../../support/storeContender.ts'), {
      execArgv: ['--import', 'tsx'],
      env: { ...process.env, ...database.env, CONTENDER_ID: String(i) },
      stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
    });
    contenders.push(child);
  }
  await Promise.all(contenders.map((child) => once(child, 'message')));
}, 60_000);

afterAll(async () => {
  await Promise.all(contenders.map(async (child) => {
    if (child.connected) child.send('close');
    if (child.exitCode === null) await once(child, 'exit');
  }));
  await store?.close();
  await database?.drop();
  rmSync(dir, { recursive: true, force: true });
});

/** Sends every contender the scenario at once; all their outcomes, flattened. */
async function race(scenario: Scenario): Promise<Outcome[]> {
  const answers = contenders.map((child) =>
    new Promise<Outcome[]>((resolve) => {
      const onMessage = (message: { scenario?: Scenario; outcomes?: Outcome[] }) => {
        if (message.scenario !== scenario) return;
        child.off('message', onMessage);
        resolve(message.outcomes!);
      };
      child.on('message', onMessage);
    }),
  );
  for (const child of contenders) child.send({ scenario });
  return (await Promise.all(answers)).flat();
}

describe(`the store under concurrent replicas (${process.env.TEST_DATABASE ?? 'sqlite'})`, () => {
  it('places one order for one idempotency key however many replicas retry it at once', async () => {
    const before = await store.db.selectFrom('articles').select('stock').where('id', '=', 'a1').executeTakeFirstOrThrow();
    const outcomes = await race('sameIdempotencyKey');
    expect(outcomes.every((o) => o.ok)).toBe(true);
    expect(new Set(outcomes.map((o) => o.ok && o.value)).size).toBe(1);
    const orders = await store.db.selectFrom('orders').select('id').where('idempotency_key', '=', 'race-key').execute();
    expect(orders).toHaveLength(1);
    const after = await store.db.selectFrom('articles').select('stock').where('id', '=', 'a1').executeTakeFirstOrThrow();
    expect(after.stock).toBe(before.stock - 1);
  });

  it('sells the last 25 items exactly once among 40 concurrent orders', async () => {
    const outcomes = await race('lastStock');
    expect(outcomes.filter((o) => o.ok)).toHaveLength(25);
    expect(outcomes.filter((o) => !o.ok).map((o) => !o.ok && o.code)).toEqual(Array(15).fill('BAD_USER_INPUT'));
    const article = await store.db.selectFrom('articles').select('stock').where('id', '=', 'a2').executeTakeFirstOrThrow();
    expect(article.stock).toBe(0);
    const lines = await store.db.selectFrom('order_lines').select((eb) => eb.fn.sum<number>('quantity').as('sold')).where('article_id', '=', 'a2')
      .innerJoin('orders', 'orders.id', 'order_lines.order_id').where('orders.user_id', '=', 'u4').executeTakeFirstOrThrow();
    expect(Number(lines.sold)).toBe(25);
  });

  it('never grants more tokens than the allowance, nor loses a charge', async () => {
    const outcomes = await race('quota');
    expect(outcomes.filter((o) => o.ok)).toHaveLength(20);
    expect(outcomes.filter((o) => !o.ok).map((o) => !o.ok && o.code)).toEqual(Array(20).fill('QUOTA_EXCEEDED'));
    const quota = await store.db.selectFrom('quotas').select('used').where('user_id', '=', 'u3').executeTakeFirstOrThrow();
    expect(quota.used).toBe(2_000);
  });

  it('gives a lapsed answer to exactly one replica', async () => {
    const outcomes = await race('lease');
    expect(outcomes.filter((o) => o.ok && o.value === true)).toHaveLength(1);
    const row = await store.db.selectFrom('chat_generations').select('lease_owner').where('message_id', '=', 'msg-race').executeTakeFirstOrThrow();
    expect(row.lease_owner).toMatch(/^owner-\d$/);
  });

  it('logs each chunk index exactly once when replicas append the same answer', async () => {
    const outcomes = await race('chunks');
    expect(outcomes.every((o) => o.ok)).toBe(true);
    expect(outcomes.filter((o) => o.ok && o.value === true)).toHaveLength(20);
    const rows = await store.db.selectFrom('chat_chunks').select('idx').where('message_id', '=', 'msg-race').orderBy('idx').execute();
    expect(rows.map((r) => r.idx)).toEqual(Array.from({ length: 20 }, (_, i) => i));
  });
});
