import type { GraphiQLOptions } from 'graphql-yoga';

const ACROSS_SUPERGRAPHS = `# One operation, two supergraphs: the router sends
# \`me\` to the identity gateway, \`articles\` and
# \`myOrders\` to the commerce gateway, in parallel,
# and merges the answers. The Headers tab below
# carries the demo API key. Run it with the ▶ button
# or Ctrl-Enter.
query AcrossSupergraphs {
  me {
    id
    name
    plan
    quota { limit used remaining resetsAt }
  }
  articles(first: 3) {
    totalCount
    edges { node { id title price stock views sales } }
  }
  myOrders(first: 3) {
    totalCount
    edges {
      node {
        id
        status
        total
        lines { quantity unitPrice article { title } }
      }
    }
  }
}
`;

const PLACE_ORDER = `# Places an order for the demo user. A client may
# retry a mutation it never got an answer for, so
# placeOrder takes an idempotency key: the same key
# returns the same order instead of ordering twice.
# Run it twice and compare the ids; change the key in
# Variables for a new order. (The router itself never
# retries a mutation and never answers one from a
# cache.)
mutation PlaceOrder($input: PlaceOrderInput!) {
  placeOrder(input: $input) {
    id
    status
    total
    createdAt
    lines { quantity unitPrice article { id title stock } }
  }
}
`;

const PLACE_ORDER_VARIABLES = JSON.stringify(
  { input: { idempotencyKey: 'graphiql-demo-order-1', lines: [{ articleId: 'a3', quantity: 2 }, { articleId: 'a7', quantity: 1 }] } },
  null,
  2,
);

const FALLBACK = `# Fallbacks: what a client gets while part of the
# graph is down. Every subgraph runs as two replicas;
# killing one changes nothing you can see (the gateway
# moves to its twin). Kill both replicas of the orders
# subgraph, with the pids from the table \`npm start\`
# printed:
#
#   kill -9 <pid of orders-0> <pid of orders-1>
#
# and run this again. \`myOrders\` comes back degraded
# (empty), with an entry in \`errors\` that says:
#   code: DOWNSTREAM_SERVICE_ERROR
#   serviceName: "orders"
#   fallback: { source: "degraded", message }
# while \`me\` and \`articles\` still answer fresh.
# Kill users-0 and users-1 instead (after one good
# run) to see \`me\` served from the cache:
#   fallback: { source: "cache", cachedAt, ageMs }
# Restart \`npm start\` to bring them back.
query Fallback {
  me { id name plan }
  articles(first: 2) { edges { node { id title } } }
  myOrders(first: 3) { totalCount edges { node { id total status } } }
}
`;

const CHAT_STREAM = `# Streamed chat: the answer arrives token by token, as
# a GraphQL subscription over Server-Sent Events to
# /graphql. Each chunk carries its index and delta;
# the last one has done: true, the finish reason and
# the token usage.
subscription ChatStream {
  chatStream(input: { prompt: "What is a supergraph?" }) {
    conversationId
    messageId
    index
    delta
    done
    finishReason
    cached
    model { id name }
    usage { promptTokens completionTokens totalTokens }
  }
}
`;

/**
 * What GraphiQL opens with for the demo: the demo key in the Headers tab and one tab per thing worth
 * trying first. Only with a demo key configured, never in production: the page hands the key to
 * whoever loads it.
 */
export function demoGraphiQLOptions(demoApiKey: string): GraphiQLOptions {
  const headers = JSON.stringify({ authorization: `Bearer ${demoApiKey}` }, null, 2);
  return {
    headers,
    defaultHeaders: headers,
    defaultEditorToolsVisibility: 'headers',
    defaultTabs: [
      { query: ACROSS_SUPERGRAPHS, headers },
      { query: PLACE_ORDER, variables: PLACE_ORDER_VARIABLES, headers },
      { query: FALLBACK, headers },
      { query: CHAT_STREAM, headers },
    ],
  };
}
