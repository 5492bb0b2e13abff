import { createServer, type IncomingMessage } from 'node:http';
import { composeServices } from '@apollo/composition';
import { buildSubgraphSchema } from '@apollo/subgraph';
import { parse } from 'graphql';
import { createYoga } from 'graphql-yoga';
import { useHealthEndpoints } from '../../test/support/yogaHealthEndpoints.ts';
import { serveOnFreePort } from '../../test/support/serveOnFreePort.ts';
import { memoised } from './memoisedListener.ts';

// The federation benchmark of The Guild's public gateways benchmark (graphql-hive/graphql-gateways-benchmark):
// its four subgraphs (accounts, inventory, products, reviews) with their data, written here in
// Federation 2 form, and its `TestQuery` (16 subgraph fetches, an answer of about 88 KB). A user compares
// gateways on that public benchmark, so this benchmark measures its query shape beside the demo's.
// One difference: `shippingEstimate` is computed from its @requires inputs (the original's entity
// resolver drops them and answers null); the fetches and the answer's shape are the same.
const LINK = 'extend schema @link(url: "https://specs.apollo.dev/federation/v2.7", import: ["@key", "@external", "@requires", "@provides", "@shareable"])';

const SDL = {
  accounts: `${LINK}
    type Query { me: User user(id: ID!): User users: [User] }
    type User @key(fields: "id") { id: ID! name: String username: String @shareable birthday: Int }`,
  inventory: `${LINK}
    type Product @key(fields: "upc") { upc: String! weight: Int @external price: Int @external inStock: Boolean shippingEstimate: Int @requires(fields: "price weight") }`,
  products: `${LINK}
    type Query { topProducts(first: Int = 5): [Product] }
    type Product @key(fields: "upc") { upc: String! name: String price: Int weight: Int }`,
  reviews: `${LINK}
    type Review @key(fields: "id") { id: ID! body: String product: Product author: User @provides(fields: "username") }
    type User @key(fields: "id") { id: ID! username: String @external reviews: [Review] }
    type Product @key(fields: "upc") { upc: String! reviews: [Review] }`,
};

export type GuildSubgraphName = keyof typeof SDL;
export const GUILD_SUBGRAPHS = Object.keys(SDL) as GuildSubgraphName[];

const USERS = [
  ['1', 'Uri Goldshtein', 'urigo'],
  ['2', 'Dotan Simha', 'dotansimha'],
  ['3', 'Kamil Kisiela', 'kamilkisiela'],
  ['4', 'Arda Tanrikulu', 'ardatan'],
  ['5', 'Gil Gardosh', 'gilgardosh'],
  ['6', 'Laurin Quast', 'laurin'],
].map(([id, name, username]) => ({ id, name, username, birthday: 1234567890 }));
const PRODUCTS = (
  [
    ['1', 'Table', 899, 100],
    ['2', 'Couch', 1299, 1000],
    ['3', 'Glass', 15, 20],
    ['4', 'Chair', 499, 100],
    ['5', 'TV', 1299, 1000],
    ['6', 'Lamp', 6999, 300],
    ['7', 'Grill', 3999, 2000],
    ['8', 'Fridge', 100000, 6000],
    ['9', 'Sofa', 9999, 800],
  ] as const
).map(([upc, name, price, weight]) => ({ upc, name, price, weight }));
const IN_STOCK = new Set(['1', '5', '6', '7', '9']);
const BODIES = [
  "Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor incididunt ut labore et dolore magna aliqua. Ut enim ad minim veniam, quis nostrud exercitation ullamco laboris nisi ut aliquip ex ea commodo consequat. Duis aute irure dolor in reprehenderit in voluptate velit esse cillum dolore eu fugiat nulla pariatur. Excepteur sint occaecat cupidatat non proident, sunt in culpa qui officia deserunt mollit anim id est laborum.",
  "Sed ut perspiciatis unde omnis iste natus error sit voluptatem accusantium doloremque laudantium, totam rem aperiam, eaque ipsa quae ab illo inventore veritatis et quasi architecto beatae vitae dicta sunt explicabo. Nemo enim ipsam voluptatem quia voluptas sit aspernatur aut odit aut fugi",
  "sed quia consequuntur magni dolores eos qui ratione voluptatem sequi nesciunt. Neque porro quisquam est, qui dolorem ipsum quia dolor sit amet, consectetur, adipisci velit, sed quia non numquam eius modi tempora incidunt ut labore et dolore magnam aliquam quaerat voluptatem.",
  "Ut enim ad minima veniam, quis nostrum exercitationem ullam corporis suscipit laboriosam, nisi ut aliquid ex ea commodi consequatur? Quis autem",
  "At vero eos et accusamus et iusto odio dignissimos ducimus qui blanditiis praesentium voluptatum deleniti atque corrupti quos dolores et quas molestias excepturi sint occaecati cupiditate non provident, similique sunt in culpa qui officia deserunt mollitia animi, id est laborum et dolorum fuga. Et harum quidem rerum facilis est et expedita distinctio. Nam libero tempore, cum soluta nobis est eligendi optio cumque nihil impedit quo minus id quod maxime placeat facere possimus, omnis voluptas assumenda est, omnis dolor repellendus. Temporibus autem quibusdam et aut officiis debitis aut rerum necessitatibus saepe eveniet ut et voluptates repudiandae sint et molestiae non recusandae. Itaque earum rerum hic tenetur a sapiente delectus, ut aut reiciendis voluptatibus maiores alias consequatur aut perferendis doloribus asperiores repellat."
];
const REVIEW_ROWS: Array<[id: string, upc: string, body: number]> = [["1", "1", 0], ["2", "1", 1], ["3", "1", 2], ["4", "1", 3], ["5", "2", 0], ["6", "2", 1], ["7", "2", 2], ["8", "2", 3], ["9", "3", 3], ["10", "4", 3], ["11", "4", 4]];

const REVIEWS = REVIEW_ROWS.map(([id, upc, body]) => ({ id, body: BODIES[body], product: { upc } }));

const resolvers: Record<GuildSubgraphName, object> = {
  accounts: {
    Query: { me: () => USERS[0], user: (_: unknown, { id }: { id: string }) => USERS.find((u) => u.id === id), users: () => USERS },
    User: { __resolveReference: (ref: { id: string }) => USERS.find((u) => u.id === ref.id) },
  },
  inventory: {
    Product: {
      __resolveReference: (ref: { upc: string; price?: number; weight?: number }) => ({ ...ref, inStock: IN_STOCK.has(ref.upc) }),
      shippingEstimate: (p: { price?: number; weight?: number }) => (p.price === undefined ? null : p.price > 1000 ? 0 : p.weight === undefined ? null : Math.floor(p.weight / 2)),
    },
  },
  products: {
    Query: { topProducts: (_: unknown, { first }: { first: number }) => PRODUCTS.slice(0, first) },
    Product: { __resolveReference: (ref: { upc: string }) => PRODUCTS.find((p) => p.upc === ref.upc) },
  },
  reviews: {
    // As in the original: every review's author is user 1 (its username provided), every user's reviews the first two.
    Review: {
      __resolveReference: (ref: { id: string }) => REVIEWS.find((r) => r.id === ref.id),
      author: () => ({ id: '1', username: 'urigo', reviews: REVIEWS.slice(0, 2) }),
    },
    User: { __resolveReference: (ref: { id: string }) => ({ id: ref.id, username: 'user', reviews: REVIEWS.slice(0, 2) }) },
    Product: {
      __resolveReference: (ref: { upc: string }) => ref,
      reviews: (p: { upc: string }) => REVIEWS.filter((r) => r.product.upc === p.upc),
    },
  },
};

/** One replica of a subgraph of The Guild's benchmark on a free loopback port; `memoise` as for the demo's. */
export async function startGuildSubgraph(name: GuildSubgraphName, options: { memoise?: boolean } = {}): Promise<{ url: string; requests(): number; close(): Promise<void> }> {
  const schema = buildSubgraphSchema({ typeDefs: parse(SDL[name]), resolvers: resolvers[name] as never });
  const yoga = createYoga({ schema, logging: false, graphiql: false, landingPage: false, plugins: [useHealthEndpoints({ readiness: async () => ({ ready: true }) })] });
  const server = createServer(options.memoise ? memoised(yoga) : yoga);
  let requests = 0;
  server.on('request', (req: IncomingMessage) => req.method === 'POST' && (requests += 1));
  server.keepAliveTimeout = 65_000;
  return { ...(await serveOnFreePort(server)), requests: () => requests };
}

/** The composed supergraph SDL of The Guild's benchmark, its routing URLs those given. */
export function composeGuildSupergraph(urls: Record<GuildSubgraphName, string>): string {
  const result = composeServices(GUILD_SUBGRAPHS.map((name) => ({ name, url: urls[name], typeDefs: parse(SDL[name]) })));
  if (result.errors) throw new Error(result.errors.map((e) => e.message).join('\n'));
  return result.supergraphSdl;
}

/** The Guild benchmark's `TestQuery` (its k6 script's), verbatim in content. */
export const GUILD_QUERY = `fragment User on User { id username name }
fragment Review on Review { id body }
fragment Product on Product { inStock name price shippingEstimate upc weight }
query TestQuery {
  users { ...User reviews { ...Review product { ...Product reviews { ...Review author { ...User reviews { ...Review product { ...Product } } } } } } }
  topProducts { ...Product reviews { ...Review author { ...User reviews { ...Review product { ...Product } } } } }
}`;
