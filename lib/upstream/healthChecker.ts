import { request, type Dispatcher } from 'undici';
import type { Replica, ReplicaPool } from './replicaPool.ts';

/**
 * What a health check asks: `GET <origin><path>` (a path the service serves, such as our `/healthz`),
 * or a `{ __typename }` query POSTed to the replica's GraphQL URL, which every GraphQL server
 * answers, so a subgraph written elsewhere needs no health endpoint of ours.
 */
export type HealthProbe = { kind: 'path'; path: string } | { kind: 'graphql'; headers?: () => Record<string, string> };

export interface HealthCheckOptions {
  /** @default 1000 */
  intervalMs?: number;
  /** @default 500 */
  timeoutMs?: number;
  /** @default a `{ __typename }` query */
  probe?: HealthProbe;
  /** Failed checks in a row before a replica counts as down; one pass brings it back. @default 2 */
  failureThreshold?: number;
  dispatcher?: Dispatcher;
  /**
   * Told once per replica when its probe is answered 404 or 405: the probe is misconfigured (the
   * service has no such path, or takes no such method), which says nothing about its health.
   */
  onMisconfigured?(replica: Replica, status: number): void;
  /** Told when a round of probes threw (a bug, not a replica's answer): logged by the caller. @default ignored */
  onRoundFailed?(error: unknown): void;
}

/** The `{ __typename }` probe's body: the smallest operation every GraphQL server answers. */
const TYPENAME_QUERY = JSON.stringify({ query: 'query HealthCheck { __typename }' });

/** How one probe went; a misconfigured one keeps the status it was answered. */
type ProbeVerdict = 'pass' | 'fail' | { misconfigured: number };

/**
 * Active health checks: every interval, probe each replica of the pool and record the outcome, so a
 * dead replica leaves the rotation before a client request finds out and a revived one is back
 * within one interval. A probe that only timed out while the replica kept answering real calls does
 * not count. A probe answered 404 or 405 is a configuration problem, logged once, and the replica
 * stays in: passive outlier detection (the pool's ejections on real calls) still watches it.
 * Returns an idempotent stop function.
 */
export function startHealthChecks(pool: ReplicaPool, options: HealthCheckOptions = {}): { close(): void } {
  const intervalMs = options.intervalMs ?? 1_000;
  const timeoutMs = options.timeoutMs ?? 500;
  const probe = options.probe ?? { kind: 'graphql' };
  const failureThreshold = options.failureThreshold ?? 2;
  // One slow answer on a busy machine is not an outage: a replica leaves after a run of failures.
  const failuresInARow = new WeakMap<object, number>();
  const toldMisconfigured = new WeakSet<Replica>();
  let running = false;
  const controller = new AbortController();

  async function probeOnce(replica: Replica, signal: AbortSignal): Promise<ProbeVerdict> {
    try {
      const res =
        probe.kind === 'path'
          ? await request(new URL(probe.path, replica.url), { method: 'GET', signal, dispatcher: options.dispatcher })
          : await request(replica.url, {
              method: 'POST',
              headers: { 'content-type': 'application/json', accept: 'application/json', ...probe.headers?.() },
              body: TYPENAME_QUERY,
              signal,
              dispatcher: options.dispatcher,
            });
      await res.body.dump();
      if (res.statusCode === 404 || res.statusCode === 405) return { misconfigured: res.statusCode };
      // Any other answer below 500 (a 401 from a service that wants credentials included) comes
      // from a live process; a 5xx is a process that says it cannot serve (draining, not ready).
      return res.statusCode < 500 ? 'pass' : 'fail';
    } catch {
      return 'fail';
    }
  }

  async function probeAll() {
    if (running) return; // a slow round must not pile up behind itself
    running = true;
    try {
      await Promise.all(
        pool.all().map(async (replica) => {
          // A replica whose real calls are slow (a loaded machine) gets as long for its probe as
          // four of its calls take, up to four times the setting; a hung one answers no real call,
          // so its latency (failures stay out of it) keeps the probe at the setting.
          const limitMs = Math.round(Math.min(4 * timeoutMs, Math.max(timeoutMs, 4 * replica.latencyEwmaMs))); // AbortSignal.timeout takes whole ms only
          const timeout = AbortSignal.timeout(limitMs);
          const signal = AbortSignal.any([controller.signal, timeout]);
          const since = pool.time();
          const startedAt = performance.now();
          const verdict = await probeOnce(replica, signal);
          if (controller.signal.aborted) return;
          if (typeof verdict === 'object' && !toldMisconfigured.has(replica)) {
            toldMisconfigured.add(replica);
            options.onMisconfigured?.(replica, verdict.misconfigured);
          }
          const healthy = verdict !== 'fail';
          // A probe that timed out while the replica answered real calls met a busy process, not a
          // dead or hung one (those answer nothing): under a load spike the probe can wait its turn
          // past the timeout, and taking every busy replica out would leave none. Neither pass nor fail.
          if (!healthy && timeout.aborted && pool.answeredSince(replica, since)) return;
          // A timeout that fired far past its time (late by its own length, and by a quarter second)
          // stalled in this process, not at the replica: the answer may sit unread in the socket.
          // Neither pass nor fail, as a late hedge timer sends no hedge.
          if (!healthy && timeout.aborted && performance.now() - startedAt - limitMs > Math.max(limitMs, 250)) return;
          const failures = healthy ? 0 : (failuresInARow.get(replica) ?? 0) + 1;
          failuresInARow.set(replica, failures);
          if (healthy || failures >= failureThreshold) pool.setHealth(replica, healthy);
        }),
      );
    } finally {
      running = false;
    }
  }

  // A bug in a round must not end the process it watches for (an unhandled rejection would): the
  // round is lost, the next one runs.
  const timer = setInterval(() => void probeAll().catch((error: unknown) => options.onRoundFailed?.(error)), intervalMs);
  timer.unref();
  return {
    close() {
      clearInterval(timer);
      controller.abort();
    },
  };
}
