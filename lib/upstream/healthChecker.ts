import { request, type Dispatcher } from 'undici';
import type { ReplicaPool } from './replicaPool.ts';

export interface HealthCheckOptions {
  /** @default 1000 */
  intervalMs?: number;
  /** @default 500 */
  timeoutMs?: number;
  /** Path probed on each replica's origin. @default "/healthz" */
  path?: string;
  /** Failed checks in a row before a replica counts as down; one pass brings it back. @default 2 */
  failureThreshold?: number;
  dispatcher?: Dispatcher;
}

/**
 * Active health checks: every interval, GET <replica origin>/healthz on each replica of the pool and
 * record the outcome, so a dead replica leaves the rotation before a client request finds out and a
 * revived one is back within one interval. Returns an idempotent stop function.
 */
export function startHealthChecks(pool: ReplicaPool, options: HealthCheckOptions = {}): { close(): void } {
  const intervalMs = options.intervalMs ?? 1_000;
  const timeoutMs = options.timeoutMs ?? 500;
  const path = options.path ?? '/healthz';
  const failureThreshold = options.failureThreshold ?? 2;
  // One slow answer on a busy machine is not an outage: a replica leaves after a run of failures.
  const failuresInARow = new WeakMap<object, number>();
  let running = false;
  const controller = new AbortController();

  async function probeAll() {
    if (running) return; // a slow round must not pile up behind itself
    running = true;
    try {
      await Promise.all(
        pool.all().map(async (replica) => {
          const signal = AbortSignal.any([controller.signal, AbortSignal.timeout(timeoutMs)]);
          let healthy = false;
          try {
            const res = await request(new URL(path, replica.url), { method: 'GET', signal, dispatcher: options.dispatcher });
            await res.body.dump();
            healthy = res.statusCode === 200;
          } catch {
            healthy = false;
          }
          if (controller.signal.aborted) return;
          const failures = healthy ? 0 : (failuresInARow.get(replica) ?? 0) + 1;
          failuresInARow.set(replica, failures);
          if (healthy || failures >= failureThreshold) pool.setHealth(replica, healthy);
        }),
      );
    } finally {
      running = false;
    }
  }

  const timer = setInterval(() => void probeAll(), intervalMs);
  timer.unref();
  return {
    close() {
      clearInterval(timer);
      controller.abort();
    },
  };
}
