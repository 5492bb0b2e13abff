import { Pool } from 'undici';
import { percentile } from '../test/support/steadyLoad.ts';
import type { LoadTarget } from './measureLoad.ts';

/** One scenario's share of an alternating measurement. */
export interface AlternatingResult {
  requests: number;
  failures: number;
  p50Ms: number;
  p99Ms: number;
  /** Time spent waiting for this scenario's answers, ms (the sum of its latencies). */
  busyMs: number;
}

export interface AlternatingOptions {
  /** How long to send, ms. */
  durationMs: number;
  /** Counts an answer as failed (besides non-2xx). @default any `errors` entry */
  isFailure?: (body: string) => boolean;
}

/**
 * One request in flight at a time, the scenarios taking turns in a fresh random order each cycle: on a
 * machine shared with other work, every scenario sees the same moments of it, so latencies compare
 * even when the absolute figures wander. (Separate windows per scenario would hand one of them a quiet
 * second and another a busy one.) Parts in `also` go out together as one request, the slowest decides.
 */
export async function measureAlternating(
  scenarios: Record<string, LoadTarget & { also?: LoadTarget[] }>,
  options: AlternatingOptions,
): Promise<Record<string, AlternatingResult>> {
  const isFailure = options.isFailure ?? ((body: string) => body.includes('"errors"'));
  const pools = new Map<string, Pool>();
  const poolOf = (origin: string) => pools.get(origin) ?? pools.set(origin, new Pool(origin, { connections: 1, keepAliveTimeout: 30_000 })).get(origin)!;
  const prepared = Object.entries(scenarios).map(([name, scenario]) => ({
    name,
    parts: [scenario, ...(scenario.also ?? [])].map((target) => {
      const url = new URL(target.url);
      return { ...target, path: url.pathname, pool: poolOf(url.origin) };
    }),
    latencies: [] as number[],
    failures: 0,
  }));
  const endAt = performance.now() + options.durationMs;
  try {
    while (performance.now() < endAt) {
      for (const scenario of shuffled(prepared)) {
        const t0 = performance.now();
        try {
          const answers = await Promise.all(
            scenario.parts.map(async (part) => {
              const headers = typeof part.headers === 'function' ? part.headers() : part.headers;
              const res = await part.pool.request({ path: part.path, method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: part.body });
              return res.statusCode < 300 && !isFailure(await res.body.text());
            }),
          );
          if (answers.includes(false)) scenario.failures += 1;
        } catch {
          scenario.failures += 1;
        }
        scenario.latencies.push(performance.now() - t0);
      }
    }
  } finally {
    await Promise.all([...pools.values()].map((pool) => pool.close()));
  }
  return Object.fromEntries(
    prepared.map((s) => [
      s.name,
      { requests: s.latencies.length, failures: s.failures, p50Ms: percentile(s.latencies, 50), p99Ms: percentile(s.latencies, 99), busyMs: s.latencies.reduce((a, b) => a + b, 0) },
    ]),
  );
}

function shuffled<T>(items: readonly T[]): T[] {
  const copy = [...items];
  for (let i = copy.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [copy[i], copy[j]] = [copy[j], copy[i]];
  }
  return copy;
}
