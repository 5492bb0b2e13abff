/** The reference deployment: which subgraphs make up which supergraph, and their default ports. */
export const SUPERGRAPHS = {
  identity: ['auth', 'users', 'quota'],
  commerce: ['orders', 'articles', 'analytics', 'chat'],
} as const;

export type SupergraphName = keyof typeof SUPERGRAPHS;
export type SubgraphName = (typeof SUPERGRAPHS)[SupergraphName][number];

export const SUPERGRAPH_NAMES = Object.keys(SUPERGRAPHS) as SupergraphName[];
export const SUBGRAPH_NAMES = Object.values(SUPERGRAPHS).flat() as SubgraphName[];

/** Default listening ports; replica i of a subgraph listens on its base port + i. */
export const DEFAULT_PORTS = {
  router: 4000,
  gateways: { identity: 4001, commerce: 4002 } satisfies Record<SupergraphName, number>,
  subgraphs: {
    auth: 4101,
    users: 4111,
    quota: 4121,
    orders: 4131,
    articles: 4141,
    analytics: 4151,
    chat: 4161,
  } satisfies Record<SubgraphName, number>,
  /** Admin listeners (operator endpoints), loopback only by default; subgraphs have none. */
  admin: {
    router: 9000,
    gateways: { identity: 9001, commerce: 9002 } satisfies Record<SupergraphName, number>,
  },
};

/** Default number of replicas `npm start` runs per subgraph. */
export const DEFAULT_REPLICAS = 2;

export function isSubgraphName(name: string): name is SubgraphName {
  return (SUBGRAPH_NAMES as string[]).includes(name);
}

export function isSupergraphName(name: string): name is SupergraphName {
  return (SUPERGRAPH_NAMES as string[]).includes(name);
}
