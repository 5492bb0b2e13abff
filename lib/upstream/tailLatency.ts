import { LatencyTracker, type LatencyTrackerOptions } from './latencyTracker.ts';
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
}

/** One upstream's latency tracker, its hedge and deadline policy, and what they did. */
export class TailLatency {
  readonly tracker: LatencyTracker;
  readonly ceilingMs: number;
  private readonly policy: TailLatencyOptions;
  private readonly counts: TailLatencyStats = { hedgesSent: 0, hedgesWon: 0, hedgesSkipped: {}, deadlinesAdapted: 0 };

  constructor(init: TailLatencyInit) {
    this.ceilingMs = init.ceilingMs;
    this.policy = init.policy ?? DEFAULT_TAIL_LATENCY;
    this.tracker = new LatencyTracker(init.tracker);
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
