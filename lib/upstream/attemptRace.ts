import type { FailureReason } from '../errors.ts';
import type { Replica } from './replicaPool.ts';
import { decideHedge, type HedgeVerdict } from './tailLatencyPolicy.ts';

/** The first attempt, a retry after a failure, or a hedge sent while the first is still out. */
export type AttemptRole = 'primary' | 'retry' | 'hedge';

/** How one attempt ended. `lost` is never reported: a loser is cancelled after the race is decided. */
export type AttemptOutcome<T> =
  | { kind: 'answer'; value: T }
  /**
   * `retryable`: the failure is one another replica may not share (a transport failure, 502–504).
   * `reached`: the request may have reached the replica (false only when it provably did not).
   */
  | { kind: 'failed'; reason: FailureReason; retryable: boolean; reached: boolean }
  | { kind: 'cancelled'; reason: FailureReason };

/** Why a retry was sent: the request never reached its replica, or it is safe to repeat (a query, an idempotent write). */
export type RetryRule = 'unreached' | 'repeatable';

/** Why a failed call was not sent again. */
export type RetryRefusal = 'reached_write' | 'attempts_spent' | 'no_twin' | 'budget_spent';

export interface AttemptRaceOptions<T> {
  /** A query: it may be hedged. */
  hedgeable: boolean;
  /** Safe to send again after it reached a replica (a query, an idempotent write). */
  repeatable: boolean;
  /**
   * Attempts of one call, hedge included: 2 = one retry or one hedge. A request that never reached
   * its replica does not use one up: it may go to each replica once.
   */
  maxAttempts: number;
  /** Wait before hedging the first attempt; undefined: no hedge. */
  hedgeDelayMs: number | undefined;
  /** The caller's signal. */
  signal?: AbortSignal;
  pick(tried: ReadonlySet<Replica>): Replica | undefined;
  hasLiveTwin(tried: ReadonlySet<Replica>): boolean;
  acquireBudget(): boolean;
  /**
   * Runs one attempt; its `controller` is aborted with LOST_RACE when another attempt won (the loser is
   * cancelled), and the attempt may abort it too (its own deadline). Never rejects.
   */
  attempt(replica: Replica, role: AttemptRole, controller: AbortController): Promise<AttemptOutcome<T>>;
  /** Pause before a retry. */
  backoff(): Promise<void>;
  onHedge?(verdict: HedgeVerdict): void;
  /** Told of each retry sent, and of each failure not sent again (with why). */
  onRetry?(rule: RetryRule): void;
  onRetryRefused?(refusal: RetryRefusal): void;
}

export type AttemptRaceResult<T> =
  | { ok: true; value: T; attempts: number; winner: AttemptRole }
  | {
      ok: false;
      reason: FailureReason;
      attempts: number;
      /** True when the caller went away before any attempt failed on its own. */
      cancelled: boolean;
      /** True when some attempt may have reached a replica: a write's outcome is then unknown. */
      reached: boolean;
    };

/** Why a losing attempt was aborted; attempts tell it from the caller's abort. */
export const LOST_RACE = new DOMException('another attempt answered first', 'AbortError');

/**
 * Runs the attempts of one call: the first at once; for a query, a hedge on another replica when the
 * first has not answered within the hedge delay; a retry when the only attempt out fails. The first
 * answer wins and the others are cancelled. A failure while another attempt is still out is not the
 * end: that attempt's answer may yet come (Envoy does the same after a per-try timeout with hedging).
 *
 * The retry rules, for writes above all: a request that provably never reached its replica
 * (connection refused, broken before its last byte was written) goes to a twin whatever it is, as
 * it cost nothing there; a request that may have reached one is sent again only when `repeatable`
 * (a query, or a write the schema declares idempotent and that carries its key).
 */
export async function raceAttempts<T>(options: AttemptRaceOptions<T>): Promise<AttemptRaceResult<T>> {
  const tried = new Set<Replica>();
  const running = new Map<number, { role: AttemptRole; controller: AbortController; settled: Promise<Settled<T>> }>();
  let started = 0;
  /** Attempts that may have reached their replica (each unreached failure gives its attempt back). */
  let reachedAttempts = 0;
  let failure: FailureReason | undefined;
  let hedgeTimer: ReturnType<typeof setTimeout> | undefined;
  let hedgeImmediate: ReturnType<typeof setImmediate> | undefined;
  let hedgeDue: Promise<'hedge'> | undefined;

  const launch = (replica: Replica, role: AttemptRole) => {
    tried.add(replica);
    started += 1;
    const id = started;
    const controller = new AbortController();
    const settled = options.attempt(replica, role, controller).then((outcome) => ({ id, outcome }));
    running.set(id, { role, controller, settled });
  };
  const cancelOthers = () => {
    for (const other of running.values()) other.controller.abort(LOST_RACE);
    running.clear();
  };

  try {
    const first = options.pick(tried);
    if (!first) return { ok: false, reason: 'no_healthy_replica', attempts: 0, cancelled: false, reached: false };
    launch(first, 'primary');
    if (options.hedgeDelayMs !== undefined && options.hedgeable && options.maxAttempts > 1) {
      const delayMs = options.hedgeDelayMs;
      hedgeDue = new Promise((resolve) => {
        // Resolved one event-loop turn after the timer: after a stall the first attempt's answer may
        // be waiting in its socket, and it must win over a hedge that would only add load. A timer
        // late by more than its own delay means this process stalled, not the replica: the answer may
        // still be on its way, so the hedge waits one more delay (once).
        const arm = (rearmed: boolean) => {
          const armedAt = performance.now();
          hedgeTimer = setTimeout(() => {
            if (!rearmed && performance.now() - armedAt > 2 * delayMs) return arm(true);
            hedgeImmediate = setImmediate(() => resolve('hedge'));
          }, delayMs);
        };
        arm(false);
      });
    }
    for (;;) {
      const next = await Promise.race([...[...running.values()].map((r) => r.settled), ...(hedgeDue ? [hedgeDue] : [])]);
      if (next === 'hedge') {
        hedgeDue = undefined;
        const verdict = decideHedge({
          idempotent: options.hedgeable,
          attemptsStarted: started,
          maxAttempts: options.maxAttempts,
          hasLiveTwin: options.hasLiveTwin(tried),
          acquireBudget: options.acquireBudget,
        });
        options.onHedge?.(verdict);
        const twin = verdict === 'hedge' ? options.pick(tried) : undefined;
        if (twin) launch(twin, 'hedge');
        continue;
      }
      const { id, outcome } = next;
      const role = running.get(id)!.role;
      running.delete(id);
      if (outcome.kind === 'answer') {
        cancelOthers();
        return { ok: true, value: outcome.value, attempts: started, winner: role };
      }
      if (outcome.kind === 'cancelled') {
        // The caller went away: every other attempt is being aborted by the same signal.
        cancelOthers();
        return { ok: false, reason: failure ?? outcome.reason, attempts: started, cancelled: failure === undefined, reached: true };
      }
      failure = outcome.reason;
      if (outcome.reached) reachedAttempts += 1;
      if (running.size > 0) continue;
      const fail = (refusal: RetryRefusal) => {
        options.onRetryRefused?.(refusal);
        return { ok: false as const, reason: failure!, attempts: started, cancelled: false, reached: reachedAttempts > 0 };
      };
      if (!outcome.retryable) return { ok: false, reason: failure, attempts: started, cancelled: false, reached: reachedAttempts > 0 };
      // A write that may have been acted on is never sent twice; one that provably was not goes to the twin.
      if (outcome.reached && !options.repeatable) return fail('reached_write');
      // An unreached attempt gives its place back: the replica never saw it, so it cost nothing there.
      if (reachedAttempts >= options.maxAttempts) return fail('attempts_spent');
      const replica = options.pick(tried);
      if (!replica) return fail('no_twin');
      // Unreached requests cost the upstream nothing, so they take nothing from the retry budget.
      if (outcome.reached && !options.acquireBudget()) return fail('budget_spent');
      // The retry takes the hedge's place: one extra attempt per call, whichever reason sends it.
      hedgeDue = undefined;
      await options.backoff();
      if (options.signal?.aborted) return { ok: false, reason: failure, attempts: started, cancelled: false, reached: reachedAttempts > 0 };
      options.onRetry?.(outcome.reached ? 'repeatable' : 'unreached');
      launch(replica, 'retry');
    }
  } finally {
    clearTimeout(hedgeTimer);
    if (hedgeImmediate) clearImmediate(hedgeImmediate);
  }
}

type Settled<T> = { id: number; outcome: AttemptOutcome<T> };
