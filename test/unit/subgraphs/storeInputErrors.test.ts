import { locatedError } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { countArticles } from '../../../subgraphs/articles/listArticles.ts';
import { maskSubgraphError } from '../../../subgraphs/maskSubgraphError.ts';
import { isStoreInputError } from '../../../subgraphs/store/isStoreInputError.ts';
import { openDatabase, type Store } from '../../../subgraphs/store/openDatabase.ts';

let store: Store;
beforeAll(async () => {
  store = await openDatabase({ path: ':memory:' });
});
afterAll(() => store.close());

const failureOf = async (work: () => Promise<unknown>) => {
  try {
    await work();
  } catch (error) {
    return error;
  }
  throw new Error('expected the store to refuse');
};

describe('store errors caused by input', () => {
  it('tells a refusal the input caused (SQLite LIKE pattern over 50,000 bytes) from a broken store', async () => {
    const tooComplex = await failureOf(() => countArticles(store.db, 'x'.repeat(60_000)));
    expect((tooComplex as Error).message).toMatch(/LIKE or GLOB pattern too complex/);
    expect(isStoreInputError(tooComplex)).toBe(true);
    const broken = await failureOf(() => store.db.selectFrom('no_such_table' as never).selectAll().execute());
    expect(isStoreInputError(broken)).toBe(false);
    expect(isStoreInputError(Object.assign(new Error('value too long for type character varying(64)'), { code: '22001' }))).toBe(true); // PostgreSQL
    expect(isStoreInputError(Object.assign(new Error('connection refused'), { code: '08006' }))).toBe(false);
  });

  it('masks the first as BAD_USER_INPUT on its field, without the engine’s words, and the second as the server’s fault', async () => {
    const input = maskSubgraphError(locatedError(await failureOf(() => countArticles(store.db, 'x'.repeat(60_000))), undefined, ['articles']));
    expect(JSON.parse(JSON.stringify(input))).toEqual({
      message: 'The store cannot take this input: a value is too long or too complex.',
      path: ['articles'],
      extensions: { code: 'BAD_USER_INPUT' },
    });
    const broken = await failureOf(() => store.db.selectFrom('no_such_table' as never).selectAll().execute());
    const masked = maskSubgraphError(locatedError(broken, undefined, ['articles']));
    expect([masked.message, (masked as { extensions?: unknown }).extensions]).toEqual(['Unexpected error.', expect.objectContaining({ code: 'INTERNAL_SERVER_ERROR' })]);
  });
});
