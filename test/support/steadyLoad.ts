import type { GraphQLHttpResult } from './graphqlClient.ts';

/** One request of a load run, as the client saw it. */
export interface LoadSample {
  /** Epoch ms when it was sent. */
  startedAt: number;
  latencyMs: number;
  /** HTTP status, or 0 when the request itself failed (connection refused, reset). */
  status: number;
  body?: GraphQLHttpResult['body'];
  /** Why the request itself failed, if it did. */
  thrown?: string;
  /** Which loop sent it, e.g. to tell principals apart. */
  loop: number;
}

export interface LoadReport {
  samples: LoadSample[];
  /** Samples that are not HTTP 200 with no `errors`. */
  failures: LoadSample[];
}

export interface LoadOptions {
  /** Concurrent request loops. */
  concurrency: number;
  /** Sends the `n`-th request of loop `loop`. */
  send(loop: number, n: number): Promise<GraphQLHttpResult>;
  /** Upper bound per loop, so a fast stack cannot turn a short window into a flood. @default 2000 */
  maxPerLoop?: number;
}

export interface RunningLoad {
  /** Requests answered so far. */
  readonly count: number;
  /** The answered requests so far (the same array the report will hold). */
  readonly samples: readonly LoadSample[];
  /** Lets the requests in flight finish, then reports every one. */
  stop(): Promise<LoadReport>;
}

/** A clean answer: HTTP 200 and no `errors` at all. */
export function isCleanAnswer(sample: LoadSample): boolean {
  return sample.status === 200 && !sample.thrown && !sample.body?.errors?.length;
}

/** Starts `concurrency` loops that send requests back to back until stopped. */
export function startLoad(options: LoadOptions): RunningLoad {
  const maxPerLoop = options.maxPerLoop ?? 2_000;
  const samples: LoadSample[] = [];
  let stopped = false;

  async function loop(index: number) {
    for (let n = 0; !stopped && n < maxPerLoop; n++) {
      const startedAt = Date.now();
      const started = performance.now();
      try {
        const { status, body } = await options.send(index, n);
        samples.push({ startedAt, latencyMs: performance.now() - started, status, body, loop: index });
      } catch (error) {
        // fetch says only "fetch failed": its cause says what (a reset, a refused connection).
        const cause = (error as { cause?: { code?: string; message?: string } }).cause;
        const thrown = cause ? `${String(error)} (${cause.code ?? cause.message})` : String(error);
        samples.push({ startedAt, latencyMs: performance.now() - started, status: 0, thrown, loop: index });
      }
    }
  }

  const loops = Array.from({ length: options.concurrency }, (_, i) => loop(i));
  return {
    get count() {
      return samples.length;
    },
    samples,
    async stop() {
      stopped = true;
      await Promise.all(loops);
      return { samples, failures: samples.filter((s) => !isCleanAnswer(s)) };
    },
  };
}

/**
 * Runs a load for `durationMs`, and on until `until(samples)` holds when given (a slow machine still
 * gives the phase the requests it is judged by), calling `during` (e.g. to inject a fault) once it
 * has started.
 */
export async function runLoad(
  options: LoadOptions & { durationMs: number; during?: () => Promise<void>; until?: (samples: readonly LoadSample[]) => boolean },
): Promise<LoadReport> {
  const started = Date.now();
  const load = startLoad(options);
  let fault: { error: unknown } | undefined;
  try {
    await options.during?.();
  } catch (error) {
    fault = { error };
  }
  const until = options.until ?? (() => true);
  await waitUntil(() => until(load.samples), Math.max(0, options.durationMs - (Date.now() - started)));
  const report = await load.stop();
  if (fault) throw fault.error;
  return report;
}

/**
 * Waits until `done()` holds and at least `minMs` have passed; gives up 30 s later and lets the
 * caller's assertions decide. Load phases end by request counts as well as time this way, so a slow
 * machine still gives each phase its share of requests.
 */
export async function waitUntil(done: () => boolean, minMs: number): Promise<void> {
  const started = Date.now();
  while ((!done() || Date.now() - started < minMs) && Date.now() - started < minMs + 30_000) await sleep(50);
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** The p-th percentile (0–100) of some numbers; NaN for none. */
export function percentile(values: number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}

/** A short description of the first failures, for assertion messages. */
export function describeFailures(failures: LoadSample[], max = 3): string {
  return failures
    .slice(0, max)
    .map((f) => `${f.status} ${f.thrown ?? JSON.stringify(f.body?.errors ?? f.body).slice(0, 400)}`)
    .join('\n');
}
