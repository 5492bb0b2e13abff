import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inTransaction, isRetryableConflict } from '../../../subgraphs/store/inTransaction.ts';
import { openDatabase, type Store } from '../../../subgraphs/store/openDatabase.ts';

let store: Store;
beforeAll(async () => {
  store = await openDatabase({ path: ':memory:' });
});
afterAll(() => store?.close());

/** What PostgreSQL's driver throws when a concurrent transaction won. */
const conflict = (code: string) => Object.assign(new Error('could not serialize access due to read/write dependencies among transactions'), { code });
const metaCount = async (key: string) => (await store.db.selectFrom('meta').select('key').where('key', '=', key).execute()).length;

describe('inTransaction', () => {
  it('runs the work again after a serialization failure or a deadlock, keeping only the last run', async () => {
    const delays: number[] = [];
    let runs = 0;
    const result = await inTransaction(store.db, async (trx) => {
      runs += 1;
      await trx.insertInto('meta').values({ key: 'retried', value: String(runs) }).execute();
      if (runs === 1) throw conflict('40001');
      if (runs === 2) throw conflict('40P01');
      return runs;
    }, { sleep: async (ms) => void delays.push(ms), random: () => 1 });
    expect(result).toBe(3);
    expect(await metaCount('retried')).toBe(1); // the first two runs rolled back
    expect(delays).toEqual([5, 10]);
  });

  it('gives up after its attempts with a retryable WRITE_CONFLICT (never an internal error), and never retries another error', async () => {
    let runs = 0;
    const failing = inTransaction(store.db, async () => {
      runs += 1;
      throw conflict('40001');
    }, { attempts: 3, sleep: async () => {} });
    await expect(failing).rejects.toMatchObject({ extensions: { code: 'WRITE_CONFLICT', retryable: true, retryAfterSeconds: 1 } });
    expect(runs).toBe(3);

    runs = 0;
    const unique = inTransaction(store.db, async () => {
      runs += 1;
      throw conflict('23505');
    }, { sleep: async () => {} });
    await expect(unique).rejects.toMatchObject({ code: '23505' });
    expect(runs).toBe(1);
  });

  it('caps the back-off', async () => {
    const delays: number[] = [];
    await expect(inTransaction(store.db, async () => {
      throw conflict('40001');
    }, { attempts: 8, baseDelayMs: 10, maxDelayMs: 100, random: () => 1, sleep: async (ms) => void delays.push(ms) })).rejects.toThrow();
    expect(delays).toEqual([10, 20, 40, 80, 100, 100, 100]);
  });

  it('tells retryable conflicts from other errors', () => {
    expect(isRetryableConflict(conflict('40001'))).toBe(true);
    expect(isRetryableConflict(conflict('40P01'))).toBe(true);
    expect(isRetryableConflict(conflict('23505'))).toBe(false);
    expect(isRetryableConflict(new Error('x'))).toBe(false);
    expect(isRetryableConflict(null)).toBe(false);
  });
});
