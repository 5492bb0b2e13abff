import { createServer } from 'node:http';
import { composeServices } from '@apollo/composition';
import { buildSubgraphSchema } from '@apollo/subgraph';
import { GraphQLError, parse } from 'graphql';
import { createYoga } from 'graphql-yoga';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../../../lib/config.ts';
import { PRINCIPAL_HEADER, signPrincipal } from '../../../../lib/principal.ts';
import { useHealthEndpoints } from '../../../support/yogaHealthEndpoints.ts';
import { createGateway, type Gateway } from '../../../../supergraphs/createGateway.ts';
import { serveOnFreePort, type ServedOnFreePort } from '../../../support/serveOnFreePort.ts';

// Our plan executor on the federation features the reference supergraphs do not use: a union and an
// interface across subgraphs, @requires, @provides, @inaccessible, an entity fetch whose subgraph
// errors on some entities, a null in a non-null field. Each answer is checked for what it must say,
// and against @apollo/gateway's executor on the same subgraphs (GATEWAY_EXECUTOR=apollo).
// The two gateways must fail alike: no deadline adapted to a latency the shared machine's load can
// stretch (a healthy call timed out by one gateway only), no hedge, no probe timing out under load.
const STEADY = { ADAPTIVE_DEADLINE_ENABLED: 'false', HEDGE_ENABLED: 'false', HEALTH_CHECK_TIMEOUT_MS: '3000' };
const SECRET = 'plan-executor-test-secret-0123456789';
const LINK = 'extend schema @link(url: "https://specs.apollo.dev/federation/v2.7", import: ["@key", "@external", "@requires", "@provides", "@shareable", "@inaccessible"])';

const books = [
  { id: 'b1', title: 'Dune', weight: 2, price: 10 },
  { id: 'b2', title: 'Emma', weight: 1, price: 30 },
];
const SUBGRAPHS = {
  catalog: {
    typeDefs: `${LINK}
      interface Item { id: ID! title: String }
      union SearchResult = Book | Movie
      type Book implements Item @key(fields: "id") { id: ID! title: String @shareable weight: Int price: Int secret: String @inaccessible }
      type Movie implements Item @key(fields: "id") { id: ID! title: String minutes: Int }
      type Query { search: [SearchResult] items: [Item!]! book(id: ID!): Book }`,
    resolvers: {
      SearchResult: { __resolveType: (o: { minutes?: number }) => (o.minutes ? 'Movie' : 'Book') },
      Item: { __resolveType: (o: { minutes?: number }) => (o.minutes ? 'Movie' : 'Book') },
      Query: {
        search: () => [books[0], { id: 'm1', title: 'Alien', minutes: 117 }, books[1]],
        items: () => [{ id: 'm1', title: 'Alien', minutes: 117 }, ...books],
        book: (_: unknown, { id }: { id: string }) => books.find((b) => b.id === id) ?? null,
      },
      Book: { __resolveReference: (ref: { id: string }) => books.find((b) => b.id === ref.id), secret: () => 'hidden' },
      Movie: { __resolveReference: (ref: { id: string }) => ({ id: ref.id, title: 'Alien', minutes: 117 }) },
    },
  },
  shipping: {
    typeDefs: `${LINK}
      type Book @key(fields: "id") { id: ID! weight: Int @external price: Int @external shipping: Int @requires(fields: "weight price") stock: Int! warehouse: String }`,
    resolvers: {
      Book: {
        __resolveReference: (ref: { id: string; weight?: number; price?: number }) => ref,
        shipping: (b: { weight: number; price: number }) => (b.price > 20 ? 0 : b.weight * 3),
        // A non-null field that comes back null for one book: its object must become null.
        stock: (b: { id: string }) => (b.id === 'b2' ? null : 7),
        // Fails for one book: the error must land on that book's path.
        warehouse: (b: { id: string }) => {
          if (b.id === 'b2') throw new GraphQLError('warehouse offline', { extensions: { code: 'NOT_FOUND' } });
          return 'north';
        },
      },
    },
  },
  reviews: {
    typeDefs: `${LINK}
      type Book @key(fields: "id") { id: ID! title: String @external reviews: [Review!]! }
      type Review { body: String! book: Book @provides(fields: "title") }
      type Query { latestReviews: [Review!]! }`,
    resolvers: {
      Query: { latestReviews: () => [{ body: 'Great', bookId: 'b1' }, { body: 'Slow', bookId: 'b2' }] },
      Review: { book: (r: { bookId: string }) => ({ id: r.bookId, title: `${books.find((b) => b.id === r.bookId)!.title} (provided)` }) },
      Book: { __resolveReference: (ref: { id: string }) => ref, reviews: (b: { id: string }) => [{ body: `On ${b.id}`, bookId: b.id }] },
    },
  },
};

const servers: ServedOnFreePort[] = [];
const gateways = {} as Record<'own' | 'apollo', Gateway>;
const subgraphFetches: string[] = [];

beforeAll(async () => {
  const urls: Record<string, string> = {};
  for (const [name, { typeDefs, resolvers }] of Object.entries(SUBGRAPHS)) {
    // Health endpoints answered, as by every subgraph: the gateway's probes would eject a replica without them.
    const yoga = createYoga({
      schema: buildSubgraphSchema({ typeDefs: parse(typeDefs), resolvers: resolvers as never }),
      logging: false,
      maskedErrors: false,
      plugins: [useHealthEndpoints({ readiness: async () => ({ ready: true }) })],
    });
    const server = createServer((req, res) => {
      subgraphFetches.push(name);
      void yoga(req, res);
    });
    const served = await serveOnFreePort(server);
    servers.push(served);
    urls[name] = served.url;
  }
  const composed = composeServices(Object.entries(SUBGRAPHS).map(([name, s]) => ({ name, url: urls[name], typeDefs: parse(s.typeDefs) })));
  if (!composed.supergraphSdl) throw new Error(composed.errors?.map((e) => e.message).join('\n'));
  for (const executor of ['own', 'apollo'] as const) {
    gateways[executor] = await createGateway({
      name: 'books',
      config: loadConfig({ INTERNAL_SECRET: SECRET, GATEWAY_EXECUTOR: executor, ...STEADY }),
      internalSecret: SECRET,
      supergraphSdl: composed.supergraphSdl,
      logger: pino({ level: 'silent' }),
    });
  }
}, 60_000);

afterAll(async () => {
  await Promise.all(Object.values(gateways).map((g) => g.close()));
  await Promise.all(servers.map((s) => s.close()));
});

/** Asks both gateways; returns ours after checking that Apollo's answer is the same text. */
async function ask(query: string, variables?: Record<string, unknown>): Promise<{ data?: any; errors?: any[]; extensions?: any }> {
  const texts: Record<string, string> = {};
  for (const executor of ['apollo', 'own'] as const) {
    const response = await gateways[executor].fetch('http://gateway/graphql', {
      method: 'POST',
      headers: { 'content-type': 'application/json', [PRINCIPAL_HEADER]: signPrincipal({ scopes: [] }, SECRET) },
      body: JSON.stringify({ query, variables }),
    });
    texts[executor] = await response.text();
  }
  expect(texts.own).toBe(texts.apollo);
  return JSON.parse(texts.own);
}

describe('our plan executor', () => {
  it('answers a union across subgraphs with each member’s own fields and __typename, in the operation’s order', async () => {
    const body = await ask('{ search { ... on Movie { minutes } __typename ... on Book { shipping title } } }');
    expect(body).toEqual({
      data: {
        search: [
          { __typename: 'Book', shipping: 6, title: 'Dune' },
          { minutes: 117, __typename: 'Movie' },
          { __typename: 'Book', shipping: 0, title: 'Emma' },
        ],
      },
    });
    expect(Object.keys(body.data.search[1])).toEqual(['minutes', '__typename']);
  });

  it('sends @requires fields in the representations and takes @provides fields from the providing subgraph', async () => {
    subgraphFetches.length = 0;
    const body = await ask('{ latestReviews { body book { title shipping } } }');
    expect(body.data.latestReviews).toEqual([
      { body: 'Great', book: { title: 'Dune (provided)', shipping: 6 } },
      { body: 'Slow', book: { title: 'Emma (provided)', shipping: 0 } },
    ]);
  });

  it('maps an entity fetch’s errors to the entity’s path, keeping the subgraph’s code, and nulls a non-null field’s object', async () => {
    const body = await ask('query ($id: ID!) { latestReviews { book { id warehouse } } book(id: $id) { title stock } }', { id: 'b2' });
    expect(body.data.latestReviews).toEqual([{ book: { id: 'b1', warehouse: 'north' } }, { book: { id: 'b2', warehouse: null } }]);
    const errors = (body.errors ?? []).map((e: { message: string; path: unknown[]; extensions: Record<string, unknown> }) => ({ message: e.message, path: e.path, code: e.extensions.code, serviceName: e.extensions.serviceName }));
    expect(errors).toContainEqual({ message: 'warehouse offline', path: ['latestReviews', 1, 'book', 'warehouse'], code: 'NOT_FOUND', serviceName: 'shipping' });
    expect(errors).toContainEqual(expect.objectContaining({ path: ['book', 'stock'], code: 'DOWNSTREAM_SERVICE_ERROR', serviceName: 'shipping' }));
    expect(body.data.book).toBeNull();
  });

  it('counts entities a fetch skipped when it maps an error’s entity index, as Apollo does', async () => {
    // The Movie gets no representation (the fetch asks for Books), yet Apollo's index runs over every
    // entity at the fetch's path: the second representation's error lands on the second item.
    const body = await ask('{ items { id ... on Book { warehouse } } }');
    expect(body.errors?.map((e) => e.path)).toEqual([['items', 1, 'warehouse']]);
    expect(body.data.items[2]).toEqual({ id: 'b2', warehouse: null });
  });

  it('applies @skip and @include from variables and defaults, aliases and repeated fields', async () => {
    const query = 'query ($show: Boolean!, $hide: Boolean = true) { b: book(id: "b1") { t: title title @skip(if: $hide) shipping @include(if: $show) id } }';
    expect(await ask(query, { show: true })).toEqual({ data: { b: { t: 'Dune', shipping: 6, id: 'b1' } } });
    expect(await ask(query, { show: false, hide: false })).toEqual({ data: { b: { t: 'Dune', title: 'Dune', id: 'b1' } } });
  });

  it('keeps @inaccessible fields out of the API and answers introspection and the root __typename', async () => {
    const refused = await ask('{ book(id: "b1") { secret } }');
    expect(refused.errors?.[0].message).toMatch(/Cannot query field "secret"/);
    const body = await ask('{ __typename q: __typename __type(name: "Book") { fields { name } } }');
    expect(body.data).toMatchObject({ __typename: 'Query', q: 'Query' });
    const names = body.data.__type.fields.map((f: { name: string }) => f.name);
    expect(names).toEqual(expect.arrayContaining(['id', 'title', 'shipping', 'stock', 'warehouse', 'reviews']));
    expect(names).not.toContain('secret');
  });

  it('refuses variables of the wrong type before fetching anything', async () => {
    subgraphFetches.length = 0;
    const body = await ask('query ($id: ID!) { book(id: $id) { title } }', { id: { not: 'an id' } });
    expect(body.errors?.[0].message).toMatch(/\$id/);
    expect(subgraphFetches).toEqual([]);
  });
});
