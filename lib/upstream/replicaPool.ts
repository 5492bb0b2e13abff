import { setMaxListeners } from 'node:events';
/**
 * A load-balancing pool over the replicas of one upstream (a subgraph's replicas at a gateway, a
 * gateway's instances at the router). Written by hand because no library does this for arbitrary
 * HTTP upstreams: power-of-two-choices on in-flight requests, passive outlier ejection with growing
 * ejection times and a cap on the ejected share, and hooks for active health checks.
 */
export interface Replica {
  readonly url: string;
  /** Requests sent and not yet answered. */
  inFlight: number;
  /** Result of the last active health check (true until one fails). */
  healthy: boolean;
  /** Epoch ms until which passive outlier detection keeps this replica out; 0 when not ejected. */
  ejectedUntil: number;
  /** How often it was ejected; each ejection lasts longer. Decays after a run of successes. */
  ejections: number;
  consecutiveFailures: number;
  /** First attempts in a row that a hedge overtook: raises the cost like a failure, never ejects. */
  consecutiveOvertaken: number;
  /** Exponentially weighted moving average of successful calls' latency, ms. */
  latencyEwmaMs: number;
  /** When the average last took a sample; an old average counts for less (see `cost`). */
  latencySampledAt: number;
  /** Samples in the average since start or revival; it counts once there are a few. */
  latencySamples: number;
  requests: number;
  failures: number;
  /** First attempts a hedge overtook since start. */
  overtaken: number;
  /** Times the health checks took it out since start. */
  downs: number;
  /** Aborted when it is ejected or found down: requests still queued for it then go elsewhere. */
  outage: AbortController;
}

/** Why requests queued for a replica were let go: it was ejected, or its health checks failed. */
export class ReplicaOutage extends Error {
  override name = 'ReplicaOutage';
}

/** Time constant of the latency average's fading: after 10 s unsampled it counts ~37 %. */
const LATENCY_MEMORY_MS = 10_000;
/** Samples before a replica's latency average is trusted. */
const WARM_UP_SAMPLES = 5;

export interface ReplicaPoolOptions {
  /** Upstream name, for state and metrics. */
  name: string;
  urls: string[];
  /** Consecutive failures that eject a replica. @default 3 */
  consecutiveFailuresToEject?: number;
  /** First ejection time; doubled at every repeat ejection. @default 2000 */
  baseEjectionMs?: number;
  /** Longest ejection. @default 30000 */
  maxEjectionMs?: number;
  /** Largest share of replicas ejected at once; one replica may always be ejected. @default 0.5 */
  maxEjectedShare?: number;
  /** `peak-ewma`: in flight × recent latency; `least-request`: in flight only (both × recent failures). @default "peak-ewma" */
  balancer?: 'peak-ewma' | 'least-request';
  /** Injected for tests. @default Date.now */
  now?: () => number;
  /** Injected for tests. @default Math.random */
  random?: () => number;
}

export interface ReplicaState {
  url: string;
  healthy: boolean;
  ejected: boolean;
  ejectedForMs: number;
  inFlight: number;
  requests: number;
  failures: number;
  errorRate: number;
  latencyEwmaMs: number;
  overtaken: number;
}

export class ReplicaPool {
  readonly name: string;
  private replicas: Replica[];
  private readonly consecutiveFailuresToEject: number;
  private readonly baseEjectionMs: number;
  private readonly maxEjectionMs: number;
  private readonly maxEjectedShare: number;
  private readonly balancer: 'peak-ewma' | 'least-request';
  private readonly now: () => number;
  private readonly random: () => number;

  constructor(options: ReplicaPoolOptions) {
    if (options.urls.length === 0) throw new Error(`replica pool ${options.name}: needs at least one URL`);
    this.name = options.name;
    this.consecutiveFailuresToEject = options.consecutiveFailuresToEject ?? 3;
    this.baseEjectionMs = options.baseEjectionMs ?? 2_000;
    this.maxEjectionMs = options.maxEjectionMs ?? 30_000;
    this.maxEjectedShare = options.maxEjectedShare ?? 0.5;
    this.balancer = options.balancer ?? 'peak-ewma';
    this.now = options.now ?? Date.now;
    this.random = options.random ?? Math.random;
    this.replicas = options.urls.map(newReplica);
  }

  get size(): number {
    return this.replicas.length;
  }

  all(): readonly Replica[] {
    return this.replicas;
  }

  /** The pool's clock (Date.now unless a test injected one): what `answeredSince` compares with. */
  time(): number {
    return this.now();
  }

  /** Whether the replica answered a real call successfully at or after `since` (the pool's clock). */
  answeredSince(replica: Replica, since: number): boolean {
    return replica.latencySamples > 0 && replica.latencySampledAt >= since;
  }

  /** Replaces the replica list (DNS re-resolution), keeping the state of replicas that stay. */
  setUrls(urls: string[]): void {
    if (urls.length === 0) return;
    const byUrl = new Map(this.replicas.map((r) => [r.url, r]));
    this.replicas = urls.map((url) => byUrl.get(url) ?? newReplica(url));
  }

  /**
   * Power of two choices: two random candidates, the cheaper wins, cost = (in flight + 1) × recent
   * latency (the "peak EWMA" refinement of least-request that Finagle and Linkerd use: a slow replica
   * loses even when nothing is in flight on it, which plain least-request cannot see at low
   * concurrency). The latency average fades with time since its last sample, so a replica that was
   * slow once is tried again later instead of being starved forever. Equal costs are broken at
   * random. Replicas failing their health check are never picked: with none healthy the answer is
   * undefined (`no_healthy_replica`, at once, and the breaker hears of it) rather than a call that
   * waits for a hung process's deadline. Ejection is a softer signal: when every healthy replica is
   * ejected, they are all tried anyway (panic routing), since ejection can be wrong under load.
   * Undefined also when every replica is excluded.
   */
  pick(exclude?: ReadonlySet<Replica>): Replica | undefined {
    const now = this.now();
    const candidates = this.replicas.filter((r) => !exclude?.has(r));
    const healthy = candidates.filter((r) => r.healthy);
    if (healthy.length === 0) return undefined;
    const live = healthy.filter((r) => r.ejectedUntil <= now);
    const from = live.length > 0 ? live : healthy;
    if (from.length === 1) return from[0];
    const i = Math.floor(this.random() * from.length);
    let j = Math.floor(this.random() * (from.length - 1));
    if (j >= i) j += 1;
    const [a, b] = [from[i], from[j]];
    const costA = this.cost(a, now);
    const costB = this.cost(b, now);
    if (costA === costB) return this.random() < 0.5 ? a : b;
    return costA < costB ? a : b;
  }

  /** True when a replica outside `exclude` is healthy and not ejected: somewhere a hedge may go. */
  hasLiveReplica(exclude?: ReadonlySet<Replica>): boolean {
    const now = this.now();
    return this.replicas.some((r) => !exclude?.has(r) && r.healthy && r.ejectedUntil <= now);
  }

  /** True when a replica outside `exclude` passes its health checks, ejected or not: somewhere a retry may go. */
  hasHealthyReplica(exclude?: ReadonlySet<Replica>): boolean {
    return this.replicas.some((r) => !exclude?.has(r) && r.healthy);
  }

  private cost(replica: Replica, now: number): number {
    // Each consecutive failure or overtaken first attempt doubles the cost, so a replica failing fast
    // (or hung, its calls rescued by hedges) is avoided before outlier detection or health checks act.
    const failing = 2 ** Math.min(replica.consecutiveFailures + replica.consecutiveOvertaken, 10);
    if (this.balancer === 'least-request') return (replica.inFlight + 1) * failing;
    const age = Math.max(0, now - replica.latencySampledAt);
    // A cold process answers its first calls slowly (JIT, connection set-up); judging it on those
    // would starve a revived replica, so its latency counts only once a few samples are in.
    const warm = replica.latencySamples >= WARM_UP_SAMPLES;
    const latency = warm ? replica.latencyEwmaMs * Math.exp(-age / LATENCY_MEMORY_MS) : 0;
    // Latencies under 1 ms are noise on loopback: treat them as equal.
    return (replica.inFlight + 1) * Math.max(1, Math.round(latency)) * failing;
  }

  /**
   * A signal that aborts if `replica` is ejected or found down from now on: an attempt passes it to
   * its exchange, which lets go of the request if it is still queued (never written), so a write
   * waiting for a connection to a replica that went away is sent to the twin instead.
   */
  outageSignal(replica: Replica): AbortSignal {
    if (replica.outage.signal.aborted) replica.outage = outageController();
    return replica.outage.signal;
  }

  onStart(replica: Replica): void {
    replica.inFlight += 1;
    replica.requests += 1;
  }

  onSuccess(replica: Replica, latencyMs: number): void {
    replica.inFlight = Math.max(0, replica.inFlight - 1);
    replica.consecutiveFailures = 0;
    replica.consecutiveOvertaken = 0;
    replica.latencyEwmaMs = replica.latencyEwmaMs === 0 ? latencyMs : replica.latencyEwmaMs * 0.8 + latencyMs * 0.2;
    replica.latencySampledAt = this.now();
    replica.latencySamples += 1;
    if (replica.ejections > 0 && replica.requests % 50 === 0) replica.ejections -= 1;
  }

  /** A failed call counts towards ejection; `countsAsOutlier` is false for cancellations by the client. */
  onFailure(replica: Replica, _latencyMs: number, countsAsOutlier = true): void {
    replica.inFlight = Math.max(0, replica.inFlight - 1);
    if (!countsAsOutlier) return;
    // Failures stay out of the latency average: a dead replica refusing connections in 1 ms must
    // not look like the fastest one.
    replica.failures += 1;
    replica.consecutiveFailures += 1;
    if (replica.consecutiveFailures >= this.consecutiveFailuresToEject) this.tryEject(replica);
  }

  /**
   * A first attempt that its hedge overtook (and that was cancelled). It steers picks away like a
   * failure but never ejects: on a loaded machine one stall makes many first attempts lose at once,
   * and ejecting for that would leave the pool's other replica without a twin to hedge to. A hung
   * replica whose calls hedges rescue is still avoided by cost and removed by the health checks.
   */
  onOvertaken(replica: Replica): void {
    replica.inFlight = Math.max(0, replica.inFlight - 1);
    replica.consecutiveOvertaken += 1;
    replica.overtaken += 1;
  }

  private tryEject(replica: Replica): void {
    const now = this.now();
    if (replica.ejectedUntil > now) return;
    const ejected = this.replicas.filter((r) => r.ejectedUntil > now).length;
    const allowed = Math.max(1, Math.floor(this.replicas.length * this.maxEjectedShare));
    if (ejected >= allowed) return;
    const duration = Math.min(this.maxEjectionMs, this.baseEjectionMs * 2 ** replica.ejections);
    replica.ejectedUntil = now + duration;
    replica.ejections += 1;
    replica.consecutiveFailures = 0;
    replica.outage.abort(new ReplicaOutage(`${replica.url} ejected`));
  }

  /**
   * Records an active health check result. A replica that was down and passes again is back at once,
   * ejection included (it was ejected for being down); a replica that stayed up keeps its ejection,
   * since a passing health check says nothing about the errors that ejected it.
   */
  setHealth(replica: Replica, healthy: boolean): void {
    if (healthy && !replica.healthy) {
      replica.ejectedUntil = 0;
      replica.consecutiveFailures = 0;
      replica.consecutiveOvertaken = 0;
      replica.latencyEwmaMs = 0; // a revived process starts afresh
      replica.latencySamples = 0;
    }
    if (!healthy && replica.healthy) {
      replica.downs += 1;
      replica.outage.abort(new ReplicaOutage(`${replica.url} failed its health checks`));
    }
    replica.healthy = healthy;
  }

  state(): ReplicaState[] {
    const now = this.now();
    return this.replicas.map((r) => ({
      url: r.url,
      healthy: r.healthy,
      ejected: r.ejectedUntil > now,
      ejectedForMs: Math.max(0, r.ejectedUntil - now),
      inFlight: r.inFlight,
      requests: r.requests,
      failures: r.failures,
      errorRate: r.requests === 0 ? 0 : r.failures / r.requests,
      latencyEwmaMs: Math.round(r.latencyEwmaMs * 10) / 10,
      overtaken: r.overtaken,
    }));
  }
}

function newReplica(url: string): Replica {
  return {
    url,
    inFlight: 0,
    healthy: true,
    ejectedUntil: 0,
    ejections: 0,
    consecutiveFailures: 0,
    consecutiveOvertaken: 0,
    latencyEwmaMs: 0,
    latencySampledAt: 0,
    latencySamples: 0,
    requests: 0,
    failures: 0,
    overtaken: 0,
    downs: 0,
    outage: outageController(),
  };
}

/**
 * A replica's outage signal: every request waiting to be written to the replica listens to it (and
 * stops listening once written), so it has as many listeners as requests in flight there, which is
 * not the leak Node warns of past ten.
 */
function outageController(): AbortController {
  const controller = new AbortController();
  setMaxListeners(0, controller.signal);
  return controller;
}
