import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { readCacheHints } from '../lib/fallback/cacheHints.ts';
import { readIdempotentWrites } from '../lib/upstream/idempotentWrites.ts';
import { watchSupergraph, type SupergraphSource, type SupergraphWatch } from '../lib/server/watchSupergraph.ts';
import type { SupergraphName } from '../lib/topology/loadTopology.ts';
import { buildApiSchema, type LoadedSupergraph } from './loadApiSchema.ts';
import type { Edge } from './edge/composeEdge.ts';
import { buildRoutingTable, type RoutingTable } from './routingTable.ts';

export type LoadedSupergraphs = ReadonlyArray<readonly [SupergraphName, LoadedSupergraph]>;

/** The routing table and public schema of a set of composed supergraphs (throws on a conflict between them). */
export function routingOf(sdls: Readonly<Record<string, string>>): { routingTable: RoutingTable; supergraphs: LoadedSupergraphs } {
  const supergraphs = Object.entries(sdls).map(([name, sdl]) => [name as SupergraphName, { sdl, apiSchema: buildApiSchema(sdl) }] as const);
  const routingTable = buildRoutingTable(
    Object.fromEntries(supergraphs.map(([name, loaded]) => [name, loaded.apiSchema])),
    readCacheHints(...supergraphs.map(([, loaded]) => loaded.sdl)),
    readIdempotentWrites(...supergraphs.map(([, loaded]) => loaded.sdl)),
  );
  return { routingTable, supergraphs };
}

export interface ReloadableRoutingOptions {
  routingTable: RoutingTable;
  supergraphs: LoadedSupergraphs;
  /** Builds the router's edge (its stages read the table and the SDLs) for one routing table. */
  buildEdge(routingTable: RoutingTable, supergraphs: LoadedSupergraphs): Edge;
  /** What to watch per supergraph (the topology's composed file or rover config); without it nothing is watched. */
  sources?: Readonly<Record<string, SupergraphSource>>;
  /** @default 1000 */
  intervalMs?: number;
  registry?: Registry;
  logger: Logger;
}

export interface ReloadableRouting {
  readonly routingTable: RoutingTable;
  /** The edge current now: each request takes the one current when it arrives, and runs on it to the end. */
  readonly edge: Edge;
  /** Reloads now if the watched files changed (tests; the timer does it every interval). */
  check(): Promise<void>;
  /** Stops watching; idempotent. */
  close(): Promise<void>;
}

/**
 * The router's routing table and public schema, switched without a restart: a changed supergraph file
 * is loaded, merged into a new routing table (a root-field conflict keeps the old one and is
 * reported), and a new edge is built over it, with every stage that reads the table. New requests go
 * to the new edge in one assignment; requests in flight finish on the one they started on, which is
 * left to the garbage collector (its stages share the router's long-lived parts and own nothing).
 */
export function createReloadableRouting(options: ReloadableRoutingOptions): ReloadableRouting {
  const { buildEdge, logger } = options;
  let current = buildEdge(options.routingTable, options.supergraphs);
  const watch: SupergraphWatch | undefined =
    options.sources === undefined
      ? undefined
      : watchSupergraph({
          sources: options.sources,
          initial: Object.fromEntries(options.supergraphs.map(([name, loaded]) => [name, loaded.sdl])),
          intervalMs: options.intervalMs,
          registry: options.registry,
          logger,
          async apply(sdls) {
            const { routingTable, supergraphs } = routingOf(sdls);
            current = buildEdge(routingTable, supergraphs);
          },
        });
  return {
    get routingTable() {
      return current.routingTable;
    },
    get edge() {
      return current;
    },
    check: () => watch?.check() ?? Promise.resolve(),
    async close() {
      watch?.close();
    },
  };
}
