import type { GraphiQLOptions } from 'graphql-yoga';

const ACROSS_SUPERGRAPHS = `# One operation, two supergraphs. The router sends \`me\` to the identity gateway and
# \`articles\` and \`myOrders\` to the commerce gateway, in parallel, then merges the answers
# in the order you asked for them. The Headers tab carries the demo API key.
# Run it with the ▶ button or Ctrl-Enter.
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

const PLACE_ORDER = `# Places an order for the demo user. A client may retry a mutation it never got an answer
# for, so placeOrder takes an idempotency key: the same key returns the same order instead of
# ordering twice. Run it twice and compare the ids; change the key in Variables for a new order.
# (The router never retries a mutation itself and never serves one from a cache.)
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

const FALLBACK = `# Fallbacks: what a client gets while part of the graph is down.
# Every subgraph runs as two replicas, and killing one changes nothing visible: the gateway
# moves to its twin. Kill both replicas of the orders subgraph. \`npm start\` printed a table
# of components with their pids:
#
#   kill -9 <pid of orders-0> <pid of orders-1>
#
# then run this again. \`myOrders\` comes back degraded (empty) with an entry in \`errors\`
# whose extensions say code DOWNSTREAM_SERVICE_ERROR, serviceName "orders" and
# fallback { source: "degraded", message }, while \`me\` and \`articles\` still answer fresh.
# Kill users-0 and users-1 instead (after one good run) to see \`me\` served from the cache:
# fallback { source: "cache", cachedAt, ageMs }. Restart \`npm start\` to bring them back.
query Fallback {
  me { id name plan }
  articles(first: 2) { edges { node { id title } } }
  myOrders(first: 3) { totalCount edges { node { id total status } } }
}
`;

const CHAT_STREAM = `# Streamed chat: the answer arrives token by token, as a GraphQL subscription over SSE
# (GraphiQL speaks GraphQL over Server-Sent Events to /graphql). Each chunk carries its
# index and delta; the last one has done: true, the finish reason and the token usage.
subscription ChatStream {
  chatStream(input: { prompt: "Explain GraphQL federation in two sentences." }) {
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
 * trying first. Only for the generated demo key, never in production: the page hands the key to
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
