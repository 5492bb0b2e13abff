import { buildSchema, getIntrospectionQuery, parse } from 'graphql';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../../lib/config.ts';
import { readCostDirectives } from '../../../router/operationLimits/costDirectives.ts';
import { compileCost, type CostModel } from '../../../router/operationLimits/costEstimate.ts';
import { edgeRouter } from './edgeRouter.ts';

// In-process against the real router (scripted gateways): each limit, its code, its status, and
// that nothing reached a gateway.
const { router, calls, post } = edgeRouter({
  edge: {
    rateLimit: { enabled: false },
    operationLimits: { maxAliases: 3, maxRootFields: 3, maxDirectivesPerField: 1, maxTokens: 120, maxVariablesBytes: 200, maxCost: 100 },
  },
});
afterAll(() => router.close());
beforeEach(() => {
  calls.length = 0;
});

const aliases = (n: number) => `{ models { ${Array.from({ length: n }, (_, i) => `a${i}: id`).join(' ')} } }`;

describe('operation limits: refused with 400 and a code, before any gateway', () => {
  const cases: Array<[string, unknown, string, Record<string, unknown>]> = [
    ['four aliases', { query: aliases(4) }, 'MAX_ALIASES_LIMIT', { limit: 3, actual: 4 }],
    [
      'aliases hidden in a fragment spread twice',
      { query: '{ models { ...F ...F } } fragment F on Model { a: id b: name }' },
      'MAX_ALIASES_LIMIT',
      { limit: 3, actual: 4 },
    ],
    ['four root fields', { query: '{ models { id } topArticles { id } me { id } article(id: "a1") { id } }' }, 'MAX_ROOT_FIELDS_LIMIT', { limit: 3, actual: 4 }],
    [
      'two directives on one field',
      { query: 'query($a: Boolean!) { models @include(if: $a) @skip(if: false) { id } }', variables: { a: true } },
      'MAX_DIRECTIVES_LIMIT',
      { limit: 1, actual: 2 },
    ],
    ['a document over maxTokens', { query: `{ models { ${'id '.repeat(200)} } }` }, 'MAX_TOKENS_LIMIT', { limit: 120 }],
    ['variables over maxVariablesBytes', { query: '{ models { id } }', variables: { pad: 'x'.repeat(300) } }, 'MAX_VARIABLES_SIZE_LIMIT', { limit: 200 }],
    [
      'a list sized by a literal argument',
      { query: '{ articles(first: 60) { edges { node { id views } } } }' },
      'COST_ESTIMATED_TOO_EXPENSIVE',
      { limit: 100, actual: 121 },
    ],
    [
      'a list sized by a variable',
      { query: 'query($n: Int) { topArticles(first: $n) { id } }', variables: { n: 500 } },
      'COST_ESTIMATED_TOO_EXPENSIVE',
      { limit: 100, actual: 500 },
    ],
  ];
  for (const [what, body, code, details] of cases) {
    it(`refuses ${what} with ${code}`, async () => {
      for (const accept of ['application/graphql-response+json', 'application/json']) {
        const result = await post(body, { accept });
        expect(result.status).toBe(400);
        expect(result.body.errors).toHaveLength(1);
        expect(result.body.errors[0].extensions).toMatchObject({ code, ...details });
        expect(result.body.data).toBeUndefined();
      }
      expect(calls).toEqual([]);
      expect((await post({ query: '{ models { id } }' })).body).toEqual({ data: { models: [{ id: 'm1' }] } });
    });
  }

  it('lets the same shapes through under the limits, with variables deciding the cost', async () => {
    expect((await post({ query: aliases(3) })).status).toBe(200);
    const cheap = await post({ query: 'query($n: Int) { topArticles(first: $n) { id } }', variables: { n: 50 } });
    expect(cheap.status).toBe(200);
    // The variable's default applies when the client leaves it out.
    expect((await post({ query: 'query($n: Int = 500) { topArticles(first: $n) { id } }' })).body.errors[0].extensions.code).toBe(
      'COST_ESTIMATED_TOO_EXPENSIVE',
    );
  });

  it('keeps the depth limit, now named MAX_DEPTH_LIMIT', async () => {
    const deep = edgeRouter({ config: { ...loadConfig({}), router: { ...loadConfig({}).router, maxDepth: 5 } }, edge: { rateLimit: { enabled: false } } });
    const refused = await deep.post({ query: '{ myOrders { edges { node { lines { article { id } } } } } }' }, { accept: 'application/json' });
    expect([refused.status, refused.body.errors[0].extensions]).toEqual([400, { code: 'MAX_DEPTH_LIMIT', limit: 5, actual: 6 }]);
    await deep.router.close();
  });
});

describe('operation limits: defaults and dry-run', () => {
  it('lets GraphiQL introspection through the default limits', async () => {
    const defaults = edgeRouter({ edge: { rateLimit: { enabled: false } } });
    const result = await defaults.post({ query: getIntrospectionQuery() });
    expect(result.status).toBe(200);
    expect(result.body.data.__schema.queryType.name).toBe('Query');
    await defaults.router.close();
  });

  it('reports the estimated cost in extensions.cost without refusing in dry-run mode', async () => {
    const dryRun = edgeRouter({ edge: { rateLimit: { enabled: false }, operationLimits: { costMode: 'dry-run', maxCost: 100 } } });
    dryRun.calls.length = 0;
    const result = await dryRun.post({ query: 'query($n: Int) { topArticles(first: $n) { id } }', variables: { n: 500 } }, { accept: 'application/json' });
    expect(result.status).toBe(200);
    expect(result.body.extensions).toEqual({ cost: { estimated: 500, max: 100, mode: 'dry-run', exceeded: true } });
    expect(dryRun.calls).toHaveLength(1);
    await dryRun.router.close();
  });
  it('honours the @cost and @listSize of the real subgraph SDLs, read from the composed supergraphs', async () => {
    const dryRun = edgeRouter({ edge: { rateLimit: { enabled: false }, operationLimits: { costMode: 'dry-run' } } });
    const cost = async (query: string) => (await dryRun.post({ query }, { accept: 'application/json' })).body.extensions.cost.estimated;
    // chat: mutation base 10 + @cost(weight: 100) + message 1; messages: @listSize(assumedSize: 50).
    expect(await cost('mutation { chat(input: { prompt: "hi" }) { message { id } } }')).toBe(111);
    expect(await cost('{ conversation(id: "c1") { messages { id } } }')).toBe(1 + 50);
    await dryRun.router.close();
  });
});

describe('cost estimate', () => {
  const schema = buildSchema(`
    type Query { items(first: Int = 5): [Item!]! page(limit: Int): Page expensive: Int things: [Item!]! }
    type Mutation { buy(id: ID!): Item }
    type Page { entries: [Item!]! total: Int! }
    type Item { id: ID! tags: [String!]! children(first: Int): [Item!]! }
  `);
  const directives = readCostDirectives([
    parse(`
      type Query {
        expensive: Int @cost(weight: 50)
        things: [Item!]! @listSize(assumedSize: 3)
        page(limit: Int): Page @listSize(slicingArguments: ["limit"], sizedFields: ["entries"])
      }
      type Item @cost(weight: 2) { id: ID! }
    `),
  ]);
  const model: CostModel = { defaultFieldCost: 1, scalarFieldCost: 0, mutationCost: 10, defaultListSize: 10, slicingArguments: ['first', 'limit'], directives };
  const cost = (query: string, variables: Record<string, unknown> = {}) => compileCost(schema, parse(query), undefined, model)(variables);

  it('honours @cost and @listSize from the SDL', () => {
    expect(cost('{ expensive }')).toBe(50);
    expect(cost('{ things { id } }')).toBe(3 * 2); // assumedSize 3 × Item's @cost 2
    expect(cost('{ page(limit: 7) { entries { id } total } }')).toBe(1 + 7 * 2);
  });

  it('multiplies nested lists by their arguments, variables and defaults', () => {
    expect(cost('{ items { id } }')).toBe(5 * 2); // argument default 5
    expect(cost('query($n: Int) { items(first: $n) { children(first: 4) { id } } }', { n: 3 })).toBe(3 * (2 + 4 * 2));
    expect(cost('{ items(first: 100000) { children(first: 100000) { id } } }')).toBeGreaterThan(1e10);
    expect(cost('{ items { tags } }')).toBe(5 * 2); // a list of scalars costs nothing
  });

  it('counts fragments where they are spread, and mutations at their base cost', () => {
    expect(cost('{ a: items(first: 2) { ...I } b: items(first: 3) { ...I } } fragment I on Item { id }')).toBe(2 * 2 + 3 * 2);
    expect(cost('mutation { buy(id: "1") { id } }')).toBe(10 + 2);
    expect(cost('{ __schema { types { fields { name } } } }')).toBe(0);
  });
});
