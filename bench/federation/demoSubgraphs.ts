import { createServer, type IncomingMessage } from 'node:http';
import { composeServices } from '@apollo/composition';
import { buildSubgraphSchema } from '@apollo/subgraph';
import { parse } from 'graphql';
import { createYoga, type Plugin } from 'graphql-yoga';
import { useHealthEndpoints } from '../../test/support/yogaHealthEndpoints.ts';
import { serveOnFreePort } from '../../test/support/serveOnFreePort.ts';
import { memoised } from './memoisedListener.ts';

// The classic federation demo (accounts, products, inventory, reviews), written small and cheap for
// the tests and the federation benchmark: answers are computed once and memoised, so a gateway in
// front of them is what gets measured. Not ours: nothing else in this project names these.
const LINK = 'extend schema @link(url: "https://specs.apollo.dev/federation/v2.7", import: ["@key", "@external", "@requires", "@shareable"])';

const SDL = {
  accounts: `${LINK}
    type Query { me: User users: [User] }
    type User @key(fields: "id") { id: ID! name: String username: String }`,
  products: `${LINK}
    type Query { topProducts(first: Int = 5): [Product] }
    type Product @key(fields: "upc") { upc: String! name: String price: Int weight: Int }`,
  inventory: `${LINK}
    type Product @key(fields: "upc") { upc: String! weight: Int @external price: Int @external inStock: Boolean shippingEstimate: Int @requires(fields: "price weight") }`,
  reviews: `${LINK}
    type Review @key(fields: "id") { id: ID! body: String author: User product: Product }
    type User @key(fields: "id") { id: ID! reviews: [Review] }
    type Product @key(fields: "upc") { upc: String! reviews: [Review] }`,
};

export type DemoSubgraphName = keyof typeof SDL;
export const DEMO_SUBGRAPHS = Object.keys(SDL) as DemoSubgraphName[];

const users = Array.from({ length: 8 }, (_, i) => ({ id: String(i + 1), name: `User ${i + 1}`, username: `@user${i + 1}` }));
const products = Array.from({ length: 9 }, (_, i) => ({ upc: String(i + 1), name: `Product ${i + 1}`, price: 100 * (i + 1), weight: 10 + i }));
const reviews = Array.from({ length: 30 }, (_, i) => ({
  id: String(i + 1),
  body: `Review ${i + 1} of product ${(i % 9) + 1}`,
  authorId: String((i % 8) + 1),
  upc: String((i % 9) + 1),
}));

const resolvers: Record<DemoSubgraphName, object> = {
  accounts: {
    Query: { me: () => users[0], users: () => users },
    User: { __resolveReference: (ref: { id: string }) => users.find((u) => u.id === ref.id) },
  },
  products: {
    Query: { topProducts: (_: unknown, args: { first: number }) => products.slice(0, args.first) },
    Product: { __resolveReference: (ref: { upc: string }) => products.find((p) => p.upc === ref.upc) },
  },
  inventory: {
    Product: {
      __resolveReference: (ref: { upc: string; price?: number; weight?: number }) => ({ ...ref, inStock: Number(ref.upc) % 3 !== 0 }),
      shippingEstimate: (product: { price: number; weight: number }) => (product.price > 1000 ? 0 : Math.round(product.weight * 0.5)),
    },
  },
  reviews: {
    Review: {
      __resolveReference: (ref: { id: string }) => reviews.find((r) => r.id === ref.id),
      author: (review: { authorId: string }) => ({ __typename: 'User', id: review.authorId }),
      product: (review: { upc: string }) => ({ __typename: 'Product', upc: review.upc }),
    },
    User: {
      __resolveReference: (ref: { id: string }) => ref,
      reviews: (user: { id: string }) => reviews.filter((r) => r.authorId === user.id),
    },
    Product: {
      __resolveReference: (ref: { upc: string }) => ref,
      reviews: (product: { upc: string }) => reviews.filter((r) => r.upc === product.upc),
    },
  },
};

export interface DemoSubgraphOptions {
  /**
   * Answers a request whose accept header, path and body were seen before with the same bytes, without
   * running yoga again: the federation benchmark's subgraphs then cost a map lookup, so the gateway in
   * front of them is what gets measured. @default false
   */
  memoise?: boolean;
  /**
   * Serve `/healthz` and `/readyz`. Off, the subgraph is like most written elsewhere: a gateway's
   * health checks must make do with GraphQL itself. @default true
   */
  healthEndpoints?: boolean;
}

/** One replica of a demo subgraph on a free loopback port. */
export async function startDemoSubgraph(
  name: DemoSubgraphName,
  options: DemoSubgraphOptions = {},
): Promise<{ url: string; requests(): number; probes(): number; close(): Promise<void> }> {
  const schema = buildSubgraphSchema({ typeDefs: parse(SDL[name]), resolvers: resolvers[name] as never });
  // `query HealthCheck { __typename }` operations answered: what a gateway probes a subgraph with when it names no health path.
  let probes = 0;
  const countProbes: Plugin = {
    onParams({ params }) {
      if (params.operationName === 'HealthCheck' || /^\s*query HealthCheck\b/.test(params.query ?? '')) probes += 1;
    },
  };
  const yoga = createYoga({
    schema,
    logging: false,
    graphiql: false,
    landingPage: false,
    plugins: [...(options.healthEndpoints === false ? [] : [useHealthEndpoints({ readiness: async () => ({ ready: true }) })]), countProbes],
  });
  const server = createServer(options.memoise ? memoised(yoga) : yoga);
  // Every GraphQL fetch counts, memoised or not (health probes do not): the benchmark divides them by the
  // gateway's requests to show that no target deduplicates or caches (each makes the same fetches).
  let requests = 0;
  server.on('request', (req: IncomingMessage) => req.method === 'POST' && (requests += 1));
  server.keepAliveTimeout = 65_000;
  return { ...(await serveOnFreePort(server)), requests: () => requests, probes: () => probes };
}

/** The demo's composed supergraph SDL, its routing URLs those given. */
export function composeDemoSupergraph(urls: Record<DemoSubgraphName, string>): string {
  const result = composeServices(DEMO_SUBGRAPHS.map((name) => ({ name, url: urls[name], typeDefs: parse(SDL[name]) })));
  if (result.errors) throw new Error(result.errors.map((e) => e.message).join('\n'));
  return result.supergraphSdl;
}

/** The nested query the federation benchmark sends (every subgraph, entity fetches at two depths). */
export const DEMO_QUERY = `{
  me { id name username reviews { id body product { upc name price weight inStock shippingEstimate reviews { id body author { id name username } } } } }
  topProducts(first: 5) { upc name price weight inStock shippingEstimate reviews { id body author { id username reviews { id product { upc name } } } } }
}`;

/**
 * The shape of The Guild's federation gateway benchmark query (graphql-hive/graphql-gateways-benchmark):
 * every user and the top products, each three levels of reviews, products and authors deep, on the
 * demo data an answer of about 88 KB from 16 subgraph fetches. What a large answer costs a router.
 */
export const GUILD_QUERY = `{
  users { id username name reviews { id body product { inStock name price shippingEstimate upc weight reviews { id body author { id username name reviews { id body product { inStock name price shippingEstimate upc weight } } } } } } }
  topProducts { inStock name price shippingEstimate upc weight reviews { id body author { id username name reviews { id body product { inStock name price shippingEstimate upc weight } } } } }
}`;
