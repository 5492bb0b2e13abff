import { LatencyTracker, type LatencyTrackerOptions } from './latencyTracker.ts';
import type { Replica } from './replicaPool.ts';
import {
  attemptDeadline,
  DEFAULT_TAIL_LATENCY,
  hedgeDelayMs,
  type AttemptDeadline,
  type HedgeVerdict,
  type TailLatencyOptions,
} from './tailLatencyPolicy.ts';

/** What the hedges and adaptive deadlines of one upstream have done since start, for metrics. */
export interface TailLatencyStats {
  hedgesSent: number;
  /** Hedges whose answer came first. */
  hedgesWon: number;
  /** Hedges due but not sent, by reason (no live twin, budget spent, ...). */
  hedgesSkipped: Partial<Record<Exclude<HedgeVerdict, 'hedge'>, number>>;
  /** Attempts that ran under a deadline shorter than the fixed ceiling. */
  deadlinesAdapted: number;
}

export interface TailLatencyInit {
  /** The fixed deadline of one attempt (SUBGRAPH_TIMEOUT_MS, GATEWAY_TIMEOUT_MS): never exceeded. */
  ceilingMs: number;
  /** @default DEFAULT_TAIL_LATENCY */
  policy?: TailLatencyOptions;
  tracker?: LatencyTrackerOptions;
  /**
   * How long to wait before a call's timeouts count as answer times: long enough for the health
   * checks to have failed a replica that hung. @default 3500 (three 1 s check intervals and a timeout)
   */
  confirmTimeoutsAfterMs?: number;
}

/** A timed-out attempt of a call no replica answered, as seen when it failed. */
export interface UnansweredAttempt {
  replica: Replica;
  /** `replica.downs` then: a later health-check failure means the replica, not the deadline, was at fault. */
  downs: number;
  deadlineMs: number;
}

/** One upstream's latency tracker, its hedge and deadline policy, and what they did. */
export class TailLatency {
  readonly tracker: LatencyTracker;
  readonly ceilingMs: number;
  private readonly policy: TailLatencyOptions;
  private readonly counts: TailLatencyStats = { hedgesSent: 0, hedgesWon: 0, hedgesSkipped: {}, deadlinesAdapted: 0 };
  private readonly confirmAfterMs: number;
  private readonly pending = new Set<ReturnType<typeof setTimeout>>();

  constructor(init: TailLatencyInit) {
    this.ceilingMs = init.ceilingMs;
    this.policy = init.policy ?? DEFAULT_TAIL_LATENCY;
    this.tracker = new LatencyTracker(init.tracker);
    this.confirmAfterMs = init.confirmTimeoutsAfterMs ?? 3_500;
  }

  /**
   * A call that no replica answered within its adaptive deadline: perhaps the deadline is what is
   * wrong (the upstream got slower) and its timeouts should count as answer times, so the deadline
   * grows instead of failing every call at a p99 the upstream no longer has. Or the replicas hung,
   * and counting them would only make the next callers wait longer for the fallback. The health
   * checks tell the two apart: the timeouts count once, a while later, every replica involved is
   * still healthy and has not been down in between.
   */
  recordUnanswered(attempts: UnansweredAttempt[]): void {
    if (attempts.length === 0) return;
    const timer = setTimeout(() => {
      this.pending.delete(timer);
      if (attempts.every((a) => a.replica.healthy && a.replica.downs === a.downs)) {
        for (const a of attempts) this.tracker.record(a.deadlineMs);
      }
    }, this.confirmAfterMs);
    timer.unref();
    this.pending.add(timer);
  }

  /** Drops timeouts still waiting to be confirmed. Idempotent. */
  close(): void {
    for (const timer of this.pending) clearTimeout(timer);
    this.pending.clear();
  }

  /** The hedge delay now, or undefined when calls are not hedged (off, or too few samples yet). */
  hedgeDelay(): number | undefined {
    return hedgeDelayMs(this.tracker, this.policy.hedge);
  }

  /** The deadline a call's attempts get now (the client keeps the ceiling for a first attempt with nowhere else to go). */
  deadlineFor(idempotent: boolean): AttemptDeadline {
    return attemptDeadline(this.tracker, this.policy.deadline, this.ceilingMs, idempotent);
  }

  countHedge(verdict: HedgeVerdict): void {
    if (verdict === 'hedge') this.counts.hedgesSent += 1;
    else this.counts.hedgesSkipped[verdict] = (this.counts.hedgesSkipped[verdict] ?? 0) + 1;
  }

  countHedgeWon(): void {
    this.counts.hedgesWon += 1;
  }

  countAdaptedDeadlines(attempts: number): void {
    this.counts.deadlinesAdapted += attempts;
  }

  stats(): TailLatencyStats {
    return { ...this.counts, hedgesSkipped: { ...this.counts.hedgesSkipped } };
  }
}
