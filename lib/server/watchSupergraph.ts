import { readFileSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import type { Logger } from 'pino';
import { Counter, type Registry } from 'prom-client';
import YAML from 'yaml';
import { composeFromRoverConfig } from '../topology/composeSupergraph.ts';
import type { SupergraphSource } from '../topology/loadTopology.ts';
import { SCHEMA_PROBLEM } from '../errors.ts';

export type { SupergraphSource } from '../topology/loadTopology.ts';

export interface SupergraphWatchOptions {
  /** The supergraphs to watch, by name; a change to any is applied to all at once. */
  sources: Readonly<Record<string, SupergraphSource>>;
  /** Builds and switches to the new SDLs; throwing keeps what is served (and is reported). */
  apply(sdls: Record<string, string>): Promise<void>;
  /** The SDLs served now, so an unchanged file is not applied again. */
  initial: Readonly<Record<string, string>>;
  /** How often the files are looked at. @default 1000 */
  intervalMs?: number;
  logger: Logger;
  /** Registry for `supergraph_reloads_total`. @default none */
  registry?: Registry;
}

export interface SupergraphWatch {
  /** Looks at the files now (the timer does it every interval); resolves when any reload is done. */
  check(): Promise<void>;
  /** Stops watching; idempotent. */
  close(): void;
}

/**
 * Watches supergraph files and hands a changed set to `apply`, one reload at a time. Polls file
 * stats rather than using fs.watch: editors and `npm run compose` replace files by rename, and a
 * poll of a few stats a second costs nothing. A composition error, or an SDL the component cannot
 * build, keeps the old schema; it is logged with its codes and counted as `result="failed"`.
 */
export function watchSupergraph(options: SupergraphWatchOptions): SupergraphWatch {
  const { sources, apply, logger, intervalMs = 1_000 } = options;
  const reloads = options.registry
    ? new Counter({
        name: 'supergraph_reloads_total',
        help: 'Supergraph hot reloads, by result (applied, failed); a failed one keeps the old schema',
        labelNames: ['result'] as const,
        registers: [options.registry],
      })
    : undefined;
  let served: Record<string, string> = { ...options.initial };
  let fingerprint = fingerprintOf(sources);
  let running: Promise<void> = Promise.resolve();

  const reload = async () => {
    const now = fingerprintOf(sources);
    if (now === fingerprint) return;
    fingerprint = now;
    const next: Record<string, string> = {};
    for (const [name, source] of Object.entries(sources)) {
      const read = readSupergraphSource(source);
      if (!read.ok) {
        logger.error({ supergraph: name, errors: read.errors }, `supergraph ${name} did not compose; still serving the previous schema`);
        reloads?.inc({ result: 'failed' });
        return;
      }
      next[name] = read.sdl;
    }
    if (Object.keys(next).every((name) => next[name] === served[name])) return;
    try {
      await apply(next);
      served = next;
      reloads?.inc({ result: 'applied' });
      logger.info({ supergraphs: Object.keys(next) }, 'supergraph reloaded');
    } catch (error) {
      reloads?.inc({ result: 'failed' });
      logger.error({ err: error }, 'new supergraph rejected; still serving the previous schema');
    }
  };
  const check = () => (running = running.then(reload, reload));
  const timer = setInterval(() => void check(), intervalMs);
  timer.unref();
  return { check, close: () => clearInterval(timer) };
}

/** The SDL a source gives now: the file's text, or the composition of a rover config. */
export function readSupergraphSource(source: SupergraphSource): { ok: true; sdl: string } | { ok: false; errors: Array<{ code: string; message: string }> } {
  try {
    if (source.kind === 'sdl') return { ok: true, sdl: readFileSync(source.path, 'utf8') };
    const outcome = composeFromRoverConfig(source.path, '/');
    return outcome.ok ? { ok: true, sdl: outcome.supergraphSdl } : outcome;
  } catch (error) {
    return { ok: false, errors: [{ code: SCHEMA_PROBLEM.SUPERGRAPH_UNREADABLE, message: (error as Error).message }] };
  }
}

/** Every file a source depends on: a rover config and each subgraph schema it names. */
function filesOf(source: SupergraphSource): string[] {
  if (source.kind === 'sdl') return [source.path];
  try {
    const config = YAML.parse(readFileSync(source.path, 'utf8')) as { subgraphs?: Record<string, { schema?: { file?: string } }> };
    const files = Object.values(config?.subgraphs ?? {}).flatMap((s) => (s.schema?.file ? [resolve(dirname(source.path), s.schema.file)] : []));
    return [source.path, ...files];
  } catch {
    return [source.path];
  }
}

function fingerprintOf(sources: Readonly<Record<string, SupergraphSource>>): string {
  return Object.values(sources)
    .flatMap(filesOf)
    .map((file) => {
      try {
        const stat = statSync(file);
        return `${file}:${stat.mtimeMs}:${stat.size}`;
      } catch {
        return `${file}:missing`;
      }
    })
    .join('|');
}
