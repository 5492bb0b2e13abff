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
 * revived one is back within one interval. A probe that only timed out while the replica kept
 * answering real calls does not count. Returns an idempotent stop function.
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
          const timeout = AbortSignal.timeout(timeoutMs);
          const signal = AbortSignal.any([controller.signal, timeout]);
          const since = pool.time();
          let healthy = false;
          try {
            const res = await request(new URL(path, replica.url), { method: 'GET', signal, dispatcher: options.dispatcher });
            await res.body.dump();
            healthy = res.statusCode === 200;
          } catch {
            healthy = false;
          }
          if (controller.signal.aborted) return;
          // A probe that timed out while the replica answered real calls met a busy process, not a
          // dead or hung one (those answer nothing): under a load spike /healthz can wait its turn
          // past the timeout, and taking every busy replica out would leave none. Neither pass nor fail.
          if (!healthy && timeout.aborted && pool.answeredSince(replica, since)) return;
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
