import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { documentNesting } from '../../../lib/server/documentNesting.ts';

const MAX_DOCUMENT_NESTING = 128;
const nestsDeeperThan = (source: string, limit: number) => documentNesting(source, limit).exceeded;
import { edgeRouter } from './edgeRouter.ts';

// Documents built to make the router's own parsing and validation the weak point, at the default
// limits: each is refused at once with a code, before any gateway, and the router keeps serving.
const { router, calls, post } = edgeRouter({ edge: { rateLimit: { enabled: false } } });
afterAll(() => router.close());
beforeEach(() => {
  calls.length = 0;
});

/** F0 spreads F1 twice, F1 spreads F2 twice, ...: 2^levels root fields once expanded. */
const fragmentBomb = (levels: number) =>
  '{ ...F0 } ' + Array.from({ length: levels }, (_, i) => `fragment F${i} on Query { ...F${i + 1} ...F${i + 1} }`).join(' ') + ` fragment F${levels} on Query { models { id } }`;

describe('document bombs', () => {
  it('refuses list values nested past the parser\'s stack with 400 MAX_DEPTH_LIMIT instead of a 500', async () => {
    for (const accept of ['application/graphql-response+json', 'application/json']) {
      const result = await post({ query: `{ article(id: ${'['.repeat(5_000)}${']'.repeat(5_000)}) { id } }` }, { accept });
      expect(result.status).toBe(400);
      expect(result.body.errors).toEqual([
        { message: `The document nests brackets deeper than ${MAX_DOCUMENT_NESTING} levels.`, extensions: { code: 'MAX_DEPTH_LIMIT', limit: MAX_DOCUMENT_NESTING } },
      ]);
    }
    expect(calls).toEqual([]);
    expect((await post({ query: '{ models { id } }' })).body).toEqual({ data: { models: [{ id: 'm1' }] } });
  });

  it('expands a fragment bomb in linear time: 2^30 root fields refused with MAX_ROOT_FIELDS_LIMIT', async () => {
    // Walking each spread (as the depth rule once did) would take hours at 30 levels.
    const result = await post({ query: fragmentBomb(30) });
    expect(result.status).toBe(400);
    expect(result.body.errors.map((e: { extensions: { code: string } }) => e.extensions.code)).toEqual(['MAX_ROOT_FIELDS_LIMIT']);
    expect(result.body.errors[0].extensions).toMatchObject({ limit: 20, actual: 2 ** 30 });
    expect(calls).toEqual([]);
  });

  it('analyses a fragment bomb below the root in linear time too (public scope, cost, routing)', async () => {
    // 2^30 `id`s once expanded: free by cost (scalars), so it reaches the gateway, which dedupes them.
    const bomb = (type: string, root: string, leaf: string) =>
      `{ ${root} { ...F0 } } ` + Array.from({ length: 30 }, (_, i) => `fragment F${i} on ${type} { ...F${i + 1} ...F${i + 1} }`).join(' ') + ` fragment F30 on ${type} { ${leaf} }`;
    expect((await post({ query: bomb('Model', 'models', 'id') })).body).toEqual({ data: { models: [{ id: 'm1' }] } });
    expect(calls).toHaveLength(1);
    // Below a connection sized by `first`, the same bomb is priced as expanded and refused.
    const sized = await post({ query: bomb('OrderConnection', 'myOrders(first: 2)', 'edges { node { id } }') });
    expect(sized.status).toBe(400);
    expect(sized.body.errors[0].extensions).toMatchObject({ code: 'COST_ESTIMATED_TOO_EXPENSIVE', limit: 5000, actual: 1 + 2 ** 30 * 2 * (1 + 1) });
    expect(calls).toHaveLength(1);
  });

  it('counts brackets in code only, not in strings, block strings or comments', () => {
    const deep = (n: number) => '['.repeat(n);
    expect(nestsDeeperThan(`{ a(x: "${deep(300)}") }`, 10)).toBe(false);
    expect(nestsDeeperThan(`{ a(x: """ ${deep(300)} \\""" ${deep(300)} """) }`, 10)).toBe(false);
    expect(nestsDeeperThan(`# ${deep(300)}\n{ a }`, 10)).toBe(false);
    expect(nestsDeeperThan(`{ a(x: "\\"${deep(300)}") }`, 10)).toBe(false);
    expect(nestsDeeperThan(`{ a(x: "q") ${'{ b '.repeat(11)} }`, 10)).toBe(true);
    expect(nestsDeeperThan('{ a { b { c } } }', 3)).toBe(false);
    expect(nestsDeeperThan('{ a { b { c { d } } } }', 3)).toBe(true);
  });
});
