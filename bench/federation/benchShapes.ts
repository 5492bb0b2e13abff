import { composeDemoSupergraph, DEMO_QUERY, DEMO_SUBGRAPHS, startDemoSubgraph, type DemoSubgraphName } from './demoSubgraphs.ts';
import { composeGuildSupergraph, GUILD_QUERY, GUILD_SUBGRAPHS, startGuildSubgraph, type GuildSubgraphName } from './guildSubgraphs.ts';

/** A query shape the federation benchmark measures: its subgraphs, its supergraph and the query sent. */
export interface BenchShape {
  key: ShapeKey;
  title: string;
  query: string;
  subgraphs: readonly string[];
  startSubgraph(name: string, options: { memoise?: boolean }): Promise<{ url: string; requests(): number; close(): Promise<void> }>;
  compose(urls: Record<string, string>): string;
}

export type ShapeKey = 'demo' | 'guild';

/** The demo's nested query, and The Guild gateways benchmark's TestQuery (what users compare gateways on). */
export const BENCH_SHAPES: Record<ShapeKey, BenchShape> = {
  demo: {
    key: 'demo',
    title: 'demo supergraph (4 subgraphs, memoised), DEMO_QUERY',
    query: DEMO_QUERY,
    subgraphs: DEMO_SUBGRAPHS,
    startSubgraph: (name, options) => startDemoSubgraph(name as DemoSubgraphName, options),
    compose: (urls) => composeDemoSupergraph(urls as Record<DemoSubgraphName, string>),
  },
  guild: {
    key: 'guild',
    title: 'The Guild gateways benchmark supergraph (4 subgraphs, memoised), its TestQuery (16 fetches, 87 KB answer)',
    query: GUILD_QUERY,
    subgraphs: GUILD_SUBGRAPHS,
    startSubgraph: (name, options) => startGuildSubgraph(name as GuildSubgraphName, options),
    compose: (urls) => composeGuildSupergraph(urls as Record<GuildSubgraphName, string>),
  },
};

export function isShapeKey(value: string): value is ShapeKey {
  return value in BENCH_SHAPES;
}
