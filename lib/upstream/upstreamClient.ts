import { BrokenCircuitError, type CircuitBreakerPolicy } from 'cockatiel';
import { Agent, request, type Dispatcher } from 'undici';
import { breakerState, createBreaker, type BreakerState } from './circuitBreaker.ts';
import type { FailureReason, UpstreamFailure } from '../errors.ts';
import { raceAttempts, type AttemptOutcome, type AttemptRole } from './attemptRace.ts';
import { createDeadline } from './deadline.ts';
import { DEADLINE_HEADER } from './propagatedDeadline.ts';
import type { Replica, ReplicaPool } from './replicaPool.ts';
import { RetryBudget } from './retryBudget.ts';
import { TailLatency, type UnansweredAttempt } from './tailLatency.ts';

/** Why an upstream call failed, after every attempt. */
export class UpstreamError extends Error {
  override name = 'UpstreamError';
  constructor(
    readonly upstream: string,
    readonly reason: FailureReason,
    readonly attempts: number,
    /** True when the caller's own signal aborted (client went away): not the upstream's fault. */
    readonly cancelled = false,
  ) {
    super(`${upstream}: ${reason} after ${attempts} attempt(s)`);
  }

  /** The failure as clients are told of it. */
  get failure(): UpstreamFailure {
    return { reason: this.reason, attempts: this.attempts };
  }
}

export interface UpstreamResponse {
  status: number;
  contentType: string | undefined;
  body: string;
  attempts: number;
  replica: string;
}

export interface UpstreamClientOptions {
  pool: ReplicaPool;
  /** Deadline of one attempt: the ceiling an adaptive deadline never exceeds. */
  timeoutMs: number;
  /** Hedging and adaptive deadlines. @default a TailLatency with the default policy and `timeoutMs` as ceiling */
  tailLatency?: TailLatency;
  /** Shared keep-alive dispatcher. @default a new undici Agent owned (and closed) by this client */
  dispatcher?: Dispatcher;
  /** Shared retry budget. @default a new RetryBudget (20%) */
  retryBudget?: RetryBudget;
  /** Attempts for a retryable (idempotent) call: 2 = one retry or one hedge on another replica. @default 2 */
  maxAttempts?: number;
  /** Upper bound of the jittered pause before a retry. @default 25 */
  retryBackoffMs?: number;
  /** Circuit breaker thresholds for the whole upstream. @default 5 failures, 3000 ms */
  breaker?: { consecutiveFailures?: number; halfOpenAfterMs?: number };
}

export interface UpstreamCallOptions {
  headers: Record<string, string>;
  /** The client's signal; aborting it cancels the call upstream. */
  signal?: AbortSignal;
  /** Queries may be retried; mutations never. */
  idempotent: boolean;
}

const RETRYABLE_STATUS = new Set([502, 503, 504]);

/**
 * POSTs GraphQL to one replica of a pool over keep-alive connections, with a deadline per attempt
 * (adapted to the upstream's recent latency for queries), the caller's cancellation, and for
 * idempotent calls one more attempt on a different replica: a hedge when the first is slow, or a
 * retry when it failed (attemptRace.ts).
 */
export class UpstreamClient {
  readonly pool: ReplicaPool;
  /** The fixed deadline of one attempt: the ceiling of the adaptive one. */
  private readonly timeoutMs: number;
  private readonly dispatcher: Dispatcher;
  private readonly ownsDispatcher: boolean;
  private readonly retryBudget: RetryBudget;
  private readonly maxAttempts: number;
  private readonly retryBackoffMs: number;
  private readonly breaker: CircuitBreakerPolicy;
  /** The upstream's recent latency, hedge delay and adaptive deadline. */
  readonly tail: TailLatency;
  private closed = false;

  constructor(options: UpstreamClientOptions) {
    this.pool = options.pool;
    this.timeoutMs = options.timeoutMs;
    this.tail = options.tailLatency ?? new TailLatency({ ceilingMs: this.timeoutMs });
    this.ownsDispatcher = !options.dispatcher;
    this.dispatcher = options.dispatcher ?? new Agent({ keepAliveTimeout: 30_000, connections: 128 });
    this.retryBudget = options.retryBudget ?? new RetryBudget();
    this.maxAttempts = options.maxAttempts ?? 2;
    this.retryBackoffMs = options.retryBackoffMs ?? 25;
    this.breaker = createBreaker({
      ...options.breaker,
      // A client that went away says nothing about the upstream's health.
      isFailure: (error) => error instanceof UpstreamError && !error.cancelled,
    });
  }

  /** closed, open or half_open: while open, calls fail at once with reason `circuit_open`. */
  get breakerState(): BreakerState {
    return breakerState(this.breaker);
  }

  /**
   * Runs the opening of a stream (lib/upstream/eventStream.ts) through this upstream's breaker, so
   * streams and calls share one view of its health; an open breaker fails at once with `circuit_open`.
   */
  async guard<T>(open: () => Promise<T>): Promise<T> {
    try {
      return await this.breaker.execute(open);
    } catch (error) {
      if (error instanceof BrokenCircuitError) throw new UpstreamError(this.pool.name, 'circuit_open', 0);
      throw error;
    }
  }

  /** Deadline of one attempt, which also bounds how long a stream may take to open. */
  get attemptTimeoutMs(): number {
    return this.timeoutMs;
  }

  /** Sends one call through the breaker; throws UpstreamError when every allowed attempt failed. */
  async post(body: string, options: UpstreamCallOptions): Promise<UpstreamResponse> {
    try {
      return await this.breaker.execute(() => this.postWithRetry(body, options));
    } catch (error) {
      if (error instanceof BrokenCircuitError) throw new UpstreamError(this.pool.name, 'circuit_open', 0);
      throw error;
    }
  }

  private async postWithRetry(body: string, options: UpstreamCallOptions): Promise<UpstreamResponse> {
    this.retryBudget.recordRequest();
    const deadline = this.tail.deadlineFor(options.idempotent);
    const timedOut: UnansweredAttempt[] = [];
    const result = await raceAttempts<Omit<UpstreamResponse, 'attempts'>>({
      idempotent: options.idempotent,
      maxAttempts: this.maxAttempts,
      hedgeDelayMs: options.idempotent ? this.tail.hedgeDelay() : undefined,
      signal: options.signal,
      pick: (tried) => this.pool.pick(tried),
      hasLiveTwin: (tried) => this.pool.hasLiveReplica(tried),
      acquireBudget: () => this.retryBudget.tryAcquireRetry(),
      attempt: async (replica, role, raceSignal) => {
        // A first attempt with no other healthy replica to hedge or retry on keeps the fixed deadline:
        // cutting it short could only turn a slow answer (a stalled machine) into a failure. An
        // ejected twin still counts, since a retry may go there (panic routing).
        const adapted = deadline.adapted && (role !== 'primary' || this.pool.hasHealthyReplica(new Set([replica])));
        const deadlineMs = adapted ? deadline.ms : this.tail.ceilingMs;
        if (adapted) this.tail.countAdaptedDeadlines(1);
        const outcome = await this.attempt(replica, body, options, { role, raceSignal, deadlineMs });
        if (outcome.kind === 'failed' && outcome.reason === 'timeout' && adapted) timedOut.push({ replica, downs: replica.downs, deadlineMs });
        return outcome;
      },
      backoff: () => jitter(this.retryBackoffMs, options.signal),
      onHedge: (verdict) => this.tail.countHedge(verdict),
    });
    if (result.ok) {
      if (result.winner === 'hedge') this.tail.countHedgeWon();
      return { ...result.value, attempts: result.attempts };
    }
    // No replica answered in time: the deadline may be what is wrong (see recordUnanswered).
    this.tail.recordUnanswered(timedOut);
    throw new UpstreamError(this.pool.name, result.reason, result.attempts, result.cancelled);
  }

  private async attempt(
    replica: Replica,
    body: string,
    options: UpstreamCallOptions,
    race: { role: AttemptRole; raceSignal: AbortSignal; deadlineMs: number },
  ): Promise<AttemptOutcome<Omit<UpstreamResponse, 'attempts'>>> {
    const deadline = createDeadline(race.deadlineMs, options.signal, race.raceSignal);
    const started = performance.now();
    this.pool.onStart(replica);
    try {
      const res = await request(replica.url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          accept: 'application/json',
          ...options.headers,
          [DEADLINE_HEADER]: String(race.deadlineMs),
        },
        body,
        signal: deadline.signal,
        dispatcher: this.dispatcher,
      });
      const text = await res.body.text();
      const latency = performance.now() - started;
      if (res.statusCode >= 500) {
        this.pool.onFailure(replica, latency);
        return { kind: 'failed', reason: 'http_5xx', retryable: RETRYABLE_STATUS.has(res.statusCode) };
      }
      this.pool.onSuccess(replica, latency);
      this.tail.tracker.record(latency);
      const contentType = res.headers['content-type'];
      return {
        kind: 'answer',
        value: {
          status: res.statusCode,
          contentType: Array.isArray(contentType) ? contentType[0] : contentType,
          body: text,
          replica: replica.url,
        },
      };
    } catch {
      const latency = performance.now() - started;
      if (!deadline.timedOut && options.signal?.aborted) {
        this.pool.onFailure(replica, latency, false);
        // The caller's own (or propagated) deadline ran out, or the caller went away.
        const callerTimedOut = (options.signal.reason as { name?: string } | undefined)?.name === 'TimeoutError';
        return { kind: 'cancelled', reason: callerTimedOut ? 'timeout' : 'network' };
      }
      if (!deadline.timedOut && race.raceSignal.aborted) {
        // Lost the race. A first attempt its hedge overtook was slower than the hedge delay plus the
        // twin's whole answer: the pool steers away from it (see onOvertaken for why it does not
        // eject). A hedge that lost to a late first answer did nothing wrong.
        if (race.role === 'primary') this.pool.onOvertaken(replica);
        else this.pool.onFailure(replica, latency, false);
        return { kind: 'cancelled', reason: 'timeout' };
      }
      this.pool.onFailure(replica, latency, true);
      return { kind: 'failed', reason: deadline.timedOut ? 'timeout' : 'network', retryable: true };
    } finally {
      deadline.dispose();
    }
  }

  /** Closes the keep-alive connections this client owns. Idempotent. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.tail.close();
    if (this.ownsDispatcher) await this.dispatcher.close();
  }
}

function jitter(maxMs: number, signal?: AbortSignal): Promise<void> {
  const ms = Math.random() * maxMs;
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}
