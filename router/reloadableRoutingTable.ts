import type { YogaServerInstance } from 'graphql-yoga';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { readCacheHints } from '../lib/fallback/cacheHints.ts';
import { readIdempotentWrites } from '../lib/upstream/idempotentWrites.ts';
import { watchSupergraph, type SupergraphSource, type SupergraphWatch } from '../lib/server/watchSupergraph.ts';
import type { NodeRequestHandler } from '../lib/server/createRequestListener.ts';
import type { SupergraphName } from '../lib/topology/loadTopology.ts';
import { buildApiSchema, type LoadedSupergraph } from './loadApiSchema.ts';
import type { RouterContext } from './routerContext.ts';
import { buildRoutingTable, type RoutingTable } from './routingTable.ts';

export type LoadedSupergraphs = ReadonlyArray<readonly [SupergraphName, LoadedSupergraph]>;
type RouterYoga = YogaServerInstance<Record<string, never>, RouterContext>;

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
  /** Builds the router's yoga (its plugins read the table and the SDLs) for one routing table. */
  buildYoga(routingTable: RoutingTable, supergraphs: LoadedSupergraphs): RouterYoga;
  /** What to watch per supergraph (the topology's composed file or rover config); without it nothing is watched. */
  sources?: Readonly<Record<string, SupergraphSource>>;
  /** @default 1000 */
  intervalMs?: number;
  registry?: Registry;
  logger: Logger;
}

export interface ReloadableRouting {
  readonly routingTable: RoutingTable;
  readonly yoga: RouterYoga;
  /** For the HTTP listener and graphql-ws: hands each request to the yoga current when it arrives. */
  readonly handler: NodeRequestHandler & Pick<RouterYoga, 'getEnveloped'>;
  /** Reloads now if the watched files changed (tests; the timer does it every interval). */
  check(): Promise<void>;
  /** Stops watching and disposes of the current yoga; idempotent. */
  close(): Promise<void>;
}

/**
 * The router's routing table and public schema, switched without a restart: a changed supergraph file
 * is loaded, merged into a new routing table (a root-field conflict keeps the old one and is
 * reported), and a new yoga is built over it, with every plugin that reads the table. New requests go
 * to the new yoga in one assignment; requests in flight finish on the one they started on, which is
 * left to the garbage collector (its plugins share the router's long-lived parts and own nothing).
 */
export function createReloadableRouting(options: ReloadableRoutingOptions): ReloadableRouting {
  const { buildYoga, logger } = options;
  let current = { routingTable: options.routingTable, yoga: buildYoga(options.routingTable, options.supergraphs) };
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
            current = { routingTable, yoga: buildYoga(routingTable, supergraphs) };
          },
        });
  let closing: Promise<void> | undefined;
  return {
    get routingTable() {
      return current.routingTable;
    },
    get yoga() {
      return current.yoga;
    },
    handler: {
      handleNodeRequestAndResponse: (request, response, context) => current.yoga.handleNodeRequestAndResponse(request, response, context as never),
      getEnveloped: ((context: Parameters<RouterYoga['getEnveloped']>[0]) => current.yoga.getEnveloped(context)) as RouterYoga['getEnveloped'],
    },
    check: () => watch?.check() ?? Promise.resolve(),
    close() {
      closing ??= (async () => {
        watch?.close();
        await current.yoga.dispose();
      })();
      return closing;
    },
  };
}
