import type { ExecutionArgs, ExecutionResult, GraphQLSchema } from 'graphql';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { watchSupergraph, type SupergraphSource, type SupergraphWatch } from '../lib/server/watchSupergraph.ts';
import type { GatewayGeneration } from './gatewayGeneration.ts';

export interface ReloadableGatewayOptions {
  name: string;
  /** The generation built from the SDL the gateway started with. */
  initial: GatewayGeneration;
  /** Builds a generation from a new SDL; throwing keeps the current one. */
  build(sdl: string): Promise<GatewayGeneration>;
  /** What to watch; without it the gateway serves its first SDL for good. */
  source?: SupergraphSource;
  /** @default 1000 */
  intervalMs?: number;
  /** How long a replaced generation lives on for requests that started on it. @default 60000 */
  retireAfterMs?: number;
  registry?: Registry;
  logger: Logger;
}

export interface ReloadableGateway {
  /** The current API schema, read once per request: what the request is validated against. */
  schema(): GraphQLSchema;
  readonly current: GatewayGeneration;
  /** Executes a request on the generation whose schema it was validated against (`args.schema`). */
  execute(args: ExecutionArgs): Promise<ExecutionResult>;
  subscribe(args: ExecutionArgs): Promise<AsyncIterable<ExecutionResult> | ExecutionResult>;
  /** Reloads now if the watched files changed (tests; the timer does it every interval). */
  check(): Promise<void>;
  /** Stops watching and stops every generation; idempotent. */
  close(): Promise<void>;
}

/**
 * A gateway that switches supergraphs without a restart. The server reads the schema once per request,
 * and execution looks the generation up by that schema, so a request runs entirely on the generation
 * it started on while new requests take the new one: the switch is one assignment. A replaced
 * generation is stopped once the requests that may still use it are long done.
 */
export function createReloadableGateway(options: ReloadableGatewayOptions): ReloadableGateway {
  const { name, build, logger, retireAfterMs = 60_000 } = options;
  const generations = new WeakMap<GraphQLSchema, GatewayGeneration>();
  const retiring = new Set<GatewayGeneration>();
  let current = options.initial;
  generations.set(current.schema, current);
  const generationOf = (schema: GraphQLSchema) => generations.get(schema) ?? current;

  const watch: SupergraphWatch | undefined =
    options.source &&
    watchSupergraph({
      sources: { [name]: options.source },
      initial: { [name]: current.sdl },
      intervalMs: options.intervalMs,
      registry: options.registry,
      logger,
      async apply(sdls) {
        const next = await build(sdls[name]);
        generations.set(next.schema, next);
        const previous = current;
        current = next;
        retiring.add(previous);
        const timer = setTimeout(() => {
          retiring.delete(previous);
          void previous.stop();
        }, retireAfterMs);
        timer.unref();
      },
    });

  let closing: Promise<void> | undefined;
  return {
    schema: () => current.schema,
    get current() {
      return current;
    },
    execute: (args) => generationOf(args.schema).execute(args),
    subscribe: (args) => generationOf(args.schema).subscribe(args),
    check: () => watch?.check() ?? Promise.resolve(),
    close() {
      closing ??= (async () => {
        watch?.close();
        await Promise.all([current, ...retiring].map((generation) => generation.stop()));
      })();
      return closing;
    },
  };
}
