/** The subgraphs this project ships (the reference deployment's); a topology may name others, served elsewhere. */
export const SUBGRAPH_NAMES = ['auth', 'users', 'quota', 'orders', 'articles', 'analytics', 'chat'] as const;

export type SubgraphName = (typeof SUBGRAPH_NAMES)[number];

export function isSubgraphName(name: string): name is SubgraphName {
  return (SUBGRAPH_NAMES as readonly string[]).includes(name);
}
