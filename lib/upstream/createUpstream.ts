import type { Dispatcher } from 'undici';
import type { Config } from '../config.ts';
import { tailLatencyPolicy } from '../config/tailLatencyConfig.ts';
import { startHealthChecks, type HealthProbe } from './healthChecker.ts';
import { needsDiscovery, startReplicaDiscovery, type Lookup } from './replicaDiscovery.ts';
import { ReplicaPool } from './replicaPool.ts';
import type { RetryBudget } from './retryBudget.ts';
import { TailLatency } from './tailLatency.ts';
import { UpstreamClient } from './upstreamClient.ts';
import type { UpstreamTransport } from './upstreamTransport.ts';

/** One upstream (a subgraph's replicas, or a supergraph's gateway instances) with everything that keeps it honest. */
export interface Upstream {
  name: string;
  pool: ReplicaPool;
  client: UpstreamClient;
  close(): Promise<void>;
}

export interface UpstreamOptions {
  name: string;
  /** Configured URLs; `dns+http://name:port/path` expands to every address of `name`. */
  urls: string[];
  resilience: Config['resilience'];
  timeoutMs: number;
  /** Shortest adaptive attempt deadline. @default resilience.tailLatency.adaptiveDeadlineFloorMs (the subgraph tier's) */
  adaptiveDeadlineFloorMs?: number;
  dispatcher: Dispatcher;
  /** How calls and streams reach a replica, shared by a component's upstreams; the caller closes it. @default HTTP/1.1 over `dispatcher` */
  transport?: UpstreamTransport;
  retryBudget: RetryBudget;
  lookup?: Lookup;
  /** What the active health checks ask each replica. @default a `{ __typename }` query */
  healthProbe?: HealthProbe;
  /** Told once per replica whose probe is answered 404 or 405 (a probe that does not fit the service). */
  onMisconfiguredProbe?(replicaUrl: string, status: number): void;
  /** Told when a round of health checks threw (a bug): the round is lost, the process keeps serving. */
  onHealthCheckError?(error: unknown): void;
}

/**
 * Builds the pool (with health checks and DNS discovery), the breaker and the client of one upstream.
 * A `dns+` name starts as one replica (the name itself, which undici resolves) and is replaced by
 * one replica per address as soon as the first resolution lands.
 */
export function createUpstream(options: UpstreamOptions): Upstream {
  const { resilience } = options;
  const discovered = needsDiscovery(options.urls);
  const pool = new ReplicaPool({
    name: options.name,
    urls: options.urls.map((u) => u.replace(/^dns\+/, '')),
    consecutiveFailuresToEject: resilience.ejectAfterConsecutiveFailures,
    baseEjectionMs: resilience.baseEjectionMs,
    maxEjectionMs: resilience.maxEjectionMs,
    maxEjectedShare: resilience.maxEjectedShare,
    balancer: resilience.balancer,
  });
  const health = startHealthChecks(pool, {
    intervalMs: resilience.healthCheckIntervalMs,
    timeoutMs: resilience.healthCheckTimeoutMs,
    probe: options.healthProbe,
    dispatcher: options.dispatcher,
    onMisconfigured: (replica, status) => options.onMisconfiguredProbe?.(replica.url, status),
    onRoundFailed: (error) => options.onHealthCheckError?.(error),
  });
  const discovery = discovered
    ? startReplicaDiscovery(pool, options.urls, { refreshMs: resilience.dnsRefreshMs, lookup: options.lookup })
    : undefined;
  void discovery?.refresh();
  const tail = resilience.tailLatency;
  const tailLatency = new TailLatency({
    ceilingMs: options.timeoutMs,
    policy: tailLatencyPolicy(tail, options.adaptiveDeadlineFloorMs),
    tracker: { sampleSize: tail.latencyWindowSamples, windowMs: tail.latencyWindowMs, minSamples: tail.latencyMinSamples },
    // Two failed checks take a hung replica out; a round may be skipped while the previous one waits.
    confirmTimeoutsAfterMs: 3 * resilience.healthCheckIntervalMs + resilience.healthCheckTimeoutMs,
  });
  const client = new UpstreamClient({
    pool,
    timeoutMs: options.timeoutMs,
    tailLatency,
    dispatcher: options.dispatcher,
    transport: options.transport,
    retryBudget: options.retryBudget,
    breaker: {
      consecutiveFailures: resilience.breakerConsecutiveFailures,
      halfOpenAfterMs: resilience.breakerHalfOpenAfterMs,
    },
  });
  let closing: Promise<void> | undefined;
  return {
    name: options.name,
    pool,
    client,
    close() {
      closing ??= (async () => {
        health.close();
        discovery?.close();
        await client.close();
      })();
      return closing;
    },
  };
}

/** Pool and breaker state of several upstreams, for internal endpoints and metrics. */
export function upstreamState(upstreams: Record<string, Upstream>) {
  return Object.fromEntries(
    Object.entries(upstreams).map(([name, u]) => [name, { breaker: u.client.breakerState, replicas: u.pool.state() }]),
  );
}
