import { Pool } from 'undici';
import { percentile } from '../test/support/steadyLoad.ts';

export interface LoadResult {
  requests: number;
  failures: number;
  requestsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
}

/** One POST; several of them in `also` go out together and count as one request (the slowest decides). */
export interface LoadTarget {
  url: string;
  body: string;
  /** Fixed headers, or a function for headers that must be fresh (a signed principal). */
  headers?: Record<string, string> | (() => Record<string, string>);
}

export interface LoadOptions extends LoadTarget {
  /** Further targets sent in parallel with the first, as one logical request. */
  also?: LoadTarget[];
  /** Requests in flight at once. */
  concurrency: number;
  /** How long to send, ms; the loop always stops by itself. */
  durationMs: number;
  /** Counts an answer as failed (besides non-2xx). @default any `errors` entry */
  isFailure?: (body: string) => boolean;
}

/** Closed-loop load: `concurrency` workers send back to back for `durationMs`; latencies in ms. */
export async function measureLoad(options: LoadOptions): Promise<LoadResult> {
  const targets = [options, ...(options.also ?? [])].map((target) => {
    const url = new URL(target.url);
    return { ...target, path: url.pathname, pool: new Pool(url.origin, { connections: options.concurrency, keepAliveTimeout: 30_000 }) };
  });
  const latencies: number[] = [];
  let failures = 0;
  const isFailure = options.isFailure ?? ((body: string) => body.includes('"errors"'));
  const started = performance.now();
  const endAt = started + options.durationMs;
  async function worker() {
    while (performance.now() < endAt) {
      const t0 = performance.now();
      try {
        const answers = await Promise.all(
          targets.map(async (target) => {
            const headers = typeof target.headers === 'function' ? target.headers() : target.headers;
            const res = await target.pool.request({
              path: target.path,
              method: 'POST',
              headers: { 'content-type': 'application/json', ...headers },
              body: target.body,
            });
            return res.statusCode < 300 && !isFailure(await res.body.text());
          }),
        );
        if (answers.includes(false)) failures += 1;
      } catch {
        failures += 1;
      }
      latencies.push(performance.now() - t0);
    }
  }
  await Promise.all(Array.from({ length: options.concurrency }, worker));
  const elapsed = (performance.now() - started) / 1000;
  await Promise.all(targets.map((t) => t.pool.close()));
  return {
    requests: latencies.length,
    failures,
    requestsPerSecond: latencies.length / elapsed,
    p50Ms: percentile(latencies, 50),
    p99Ms: percentile(latencies, 99),
  };
}

/** Median of some numbers (of rounds, here). */
export function median(values: number[]): number {
  return percentile(values, 50);
}
