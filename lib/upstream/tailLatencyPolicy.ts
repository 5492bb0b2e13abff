import type { LatencyTracker } from './latencyTracker.ts';

/**
 * When to hedge and how long an attempt may take, from an upstream's recent latency. Pure functions
 * of the tracker and the options, so the decisions can be tested with an injected clock.
 *
 * The model is Envoy's `hedge_on_per_try_timeout` with a delay that follows the upstream instead of
 * a fixed per-try timeout (the "Tail at Scale" deferred hedge): a query not answered by the
 * upstream's p95 goes out a second time to another replica, the first answer wins and the other is
 * cancelled. The adaptive deadline is the same idea one step further out: an attempt that has taken
 * several times the upstream's p99 is not coming back soon, so a hung replica is known in hundreds of
 * milliseconds instead of at the fixed ceiling.
 */
export interface TailLatencyOptions {
  hedge: {
    /** @default true */
    enabled: boolean;
    /** Percentile of recent latency after which a query is hedged. @default 95 */
    percentile: number;
    /** Shortest hedge delay; below it a second request costs more than it saves. @default 10 */
    minDelayMs: number;
    /** Longest hedge delay, however slow the upstream has been. @default 250 */
    maxDelayMs: number;
  };
  deadline: {
    /** @default true */
    enabled: boolean;
    /** Percentile of recent latency the deadline is a multiple of. @default 99 */
    percentile: number;
    /** @default 3 */
    multiplier: number;
    /** Shortest adaptive deadline: legitimately slow operations, and a busy machine's stalls, must still fit. @default 500 */
    floorMs: number;
  };
}

export const DEFAULT_TAIL_LATENCY: TailLatencyOptions = {
  hedge: { enabled: true, percentile: 95, minDelayMs: 10, maxDelayMs: 250 },
  deadline: { enabled: true, percentile: 99, multiplier: 3, floorMs: 500 },
};

/** How long to wait for the first attempt before hedging; undefined: do not hedge (off, or too few samples). */
export function hedgeDelayMs(tracker: LatencyTracker, options: TailLatencyOptions['hedge']): number | undefined {
  if (!options.enabled) return undefined;
  const p = tracker.percentile(options.percentile);
  if (p === undefined) return undefined;
  return Math.ceil(clamp(p, options.minDelayMs, Math.max(options.minDelayMs, options.maxDelayMs)));
}

/** The deadline of one attempt, and whether it was adapted below the fixed ceiling. */
export interface AttemptDeadline {
  ms: number;
  adapted: boolean;
}

/**
 * A multiple of the upstream's recent p99 between the floor and the fixed ceiling. Mutations keep
 * the ceiling: one cut short cannot be retried and leaves the write's outcome unknown, so failing it
 * sooner buys nothing. Without enough samples the ceiling stands too.
 */
export function attemptDeadline(
  tracker: LatencyTracker,
  options: TailLatencyOptions['deadline'],
  ceilingMs: number,
  idempotent: boolean,
): AttemptDeadline {
  if (!options.enabled || !idempotent) return { ms: ceilingMs, adapted: false };
  const p = tracker.percentile(options.percentile);
  if (p === undefined) return { ms: ceilingMs, adapted: false };
  const ms = Math.ceil(clamp(p * options.multiplier, Math.min(options.floorMs, ceilingMs), ceilingMs));
  return { ms, adapted: ms < ceilingMs };
}

/** Why a hedge was or was not sent when its delay ran out. */
export type HedgeVerdict = 'hedge' | 'mutation' | 'attempts_spent' | 'no_live_twin' | 'budget_spent';

export interface HedgeSituation {
  idempotent: boolean;
  /** Attempts already started for this call. */
  attemptsStarted: number;
  maxAttempts: number;
  /** A healthy, not ejected replica not yet tried: one healthy replica is never hedged. */
  hasLiveTwin: boolean;
  /** Takes one from the retry budget (hedges are retries sent early); called only when all else allows. */
  acquireBudget(): boolean;
}

/** Whether to send the hedge now. The budget is asked last, so a refused hedge for another reason costs none. */
export function decideHedge(situation: HedgeSituation): HedgeVerdict {
  if (!situation.idempotent) return 'mutation';
  if (situation.attemptsStarted >= situation.maxAttempts) return 'attempts_spent';
  if (!situation.hasLiveTwin) return 'no_live_twin';
  if (!situation.acquireBudget()) return 'budget_spent';
  return 'hedge';
}

function clamp(value: number, min: number, max: number): number {
  return Math.min(max, Math.max(min, value));
}
