import type { Readable } from 'node:stream';
import { BrokenCircuitError, type CircuitBreakerPolicy } from 'cockatiel';
import { Agent, type Dispatcher } from 'undici';
import { breakerState, createBreaker, type BreakerState } from './circuitBreaker.ts';
import type { FailureReason, UpstreamFailure } from '../errors.ts';
import { LOST_RACE, raceAttempts, type AttemptOutcome, type AttemptRole, type RetryRefusal, type RetryRule } from './attemptRace.ts';
import { armDeadline, type Deadline } from './deadline.ts';
import { DEADLINE_HEADER } from './propagatedDeadline.ts';
import { ReplicaOutage, type Replica, type ReplicaPool } from './replicaPool.ts';
import { RetryBudget } from './retryBudget.ts';
import { ExchangeError, type SendRequestOptions, type SentResponse } from './sendRequest.ts';
import { STREAM_DISPATCHER, http1Transport, type UpstreamTransport } from './upstreamTransport.ts';
import { TailLatency, type UnansweredAttempt } from './tailLatency.ts';

/** Why an upstream call failed, after every attempt. */
export class UpstreamError extends Error {
  override name = 'UpstreamError';
  /** True when the caller's own signal aborted (client went away): not the upstream's fault. */
  readonly cancelled: boolean;
  /**
   * Whether the client may send the same call again: false only for a write that may have been
   * acted on and is not declared idempotent (its outcome is unknown). Told to clients for writes
   * alone (`extensions.retryable`): a query may always be sent again.
   */
  readonly retryable: boolean;
  private readonly write: boolean;
  /**
   * Whether the failure is the upstream's as a whole (no live replica was left outside those that
   * failed it), which its breaker counts; a failure of one replica while a twin is live is that
   * replica's, for outlier detection alone.
   */
  readonly upstreamWide: boolean;
  /** Whether the request may have reached a replica (false: provably never did). */
  readonly reached: boolean;

  constructor(
    readonly upstream: string,
    readonly reason: FailureReason,
    readonly attempts: number,
    details: { cancelled?: boolean; retryable?: boolean; write?: boolean; upstreamWide?: boolean; reached?: boolean } = {},
  ) {
    super(`${upstream}: ${reason} after ${attempts} attempt(s)`);
    this.cancelled = details.cancelled ?? false;
    this.retryable = details.retryable ?? true;
    this.write = details.write ?? false;
    this.upstreamWide = details.upstreamWide ?? true;
    this.reached = details.reached ?? true;
  }

  /** The failure as clients are told of it. */
  get failure(): UpstreamFailure {
    return { reason: this.reason, attempts: this.attempts, ...(this.write ? { retryable: this.retryable } : {}) };
  }
}

/**
 * What a call may be sent again after. A `query` is hedged when slow and retried after a transport
 * failure or a 502–504; an `idempotent` write (declared so by the schema, carrying its key) is
 * retried after the same failures but never hedged; any other `write` is sent again only when it
 * never reached a replica. Writes keep the fixed attempt deadline.
 */
export type CallKind = 'query' | 'idempotent' | 'write';

/** Retries sent by rule, and failures not sent again by why, since start: `upstream_retries_*` metrics. */
export interface RetryStats {
  sent: Partial<Record<RetryRule, number>>;
  refused: Partial<Record<RetryRefusal, number>>;
}

export interface UpstreamResponse {
  status: number;
  contentType: string | undefined;
  /** Header names in lower case. */
  headers: Record<string, string>;
  /** The whole body; empty when it streams (`stream`). */
  body: string;
  /** With `stream: true`: the body as it arrives (closes when the exchange ends). */
  stream?: Readable;
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
  /**
   * How calls and streams reach a replica (multiplexedTransport.ts: HTTP/2, else HTTP/1.1); the
   * caller closes a given one. @default HTTP/1.1 over `dispatcher`
   */
  transport?: UpstreamTransport;
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
  /** What the call may be sent again after. */
  kind: CallKind;
  /**
   * Resolve once the answer's headers arrive and hand its body on as it arrives (`stream`), so a
   * large answer is never held whole here; an answer that streams is the one that won, no later
   * attempt replaces it. @default false
   */
  stream?: boolean;
}

const RETRYABLE_STATUS = new Set([502, 503, 504]);

/**
 * POSTs GraphQL to one replica of a pool over keep-alive connections, with a deadline per attempt
 * (adapted to the upstream's recent latency for queries), the caller's cancellation, and one more
 * attempt on a different replica when the call's kind allows it: a hedge when a query is slow, a
 * retry when a query or an idempotent write failed, or when any request never reached its replica
 * (attemptRace.ts).
 */
export class UpstreamClient {
  readonly pool: ReplicaPool;
  /** The fixed deadline of one attempt: the ceiling of the adaptive one. */
  private readonly timeoutMs: number;
  private readonly dispatcher: Dispatcher;
  /** How calls and streams reach a replica (eventStream.ts opens streams through it too). */
  readonly transport: UpstreamTransport;
  private readonly ownsDispatcher: boolean;
  private readonly retryBudget: RetryBudget;
  private readonly maxAttempts: number;
  private readonly retryBackoffMs: number;
  private readonly breaker: CircuitBreakerPolicy;
  /** The upstream's recent latency, hedge delay and adaptive deadline. */
  readonly tail: TailLatency;
  private readonly retries: RetryStats = { sent: {}, refused: {} };
  private closed = false;

  constructor(options: UpstreamClientOptions) {
    this.pool = options.pool;
    this.timeoutMs = options.timeoutMs;
    this.tail = options.tailLatency ?? new TailLatency({ ceilingMs: this.timeoutMs });
    this.ownsDispatcher = !options.dispatcher;
    this.dispatcher = options.dispatcher ?? new Agent({ keepAliveTimeout: 30_000, connections: 128 });
    this.transport = options.transport ?? http1Transport(this.dispatcher, STREAM_DISPATCHER);
    this.retryBudget = options.retryBudget ?? new RetryBudget();
    this.maxAttempts = options.maxAttempts ?? 2;
    this.retryBackoffMs = options.retryBackoffMs ?? 25;
    this.breaker = createBreaker({
      ...options.breaker,
      // A client that went away says nothing about the upstream's health, nor does one replica's
      // failure while a twin is live: outlier detection takes that replica out (as Envoy keeps
      // outlier detection apart from circuit breaking).
      isFailure: (error) => error instanceof UpstreamError && !error.cancelled && error.upstreamWide,
    });
  }

  /** Counts a retry sent, or a failure not sent again, outside `post` (a stream opening). */
  countRetry(rule: RetryRule): void {
    this.retries.sent[rule] = (this.retries.sent[rule] ?? 0) + 1;
  }

  countRetryRefused(refusal: RetryRefusal): void {
    this.retries.refused[refusal] = (this.retries.refused[refusal] ?? 0) + 1;
  }

  /** Retries sent and refused since start. */
  retryStats(): RetryStats {
    return { sent: { ...this.retries.sent }, refused: { ...this.retries.refused } };
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
    const query = options.kind === 'query';
    const deadline = this.tail.deadlineFor(query);
    const timedOut: UnansweredAttempt[] = [];
    const failedOn = new Set<Replica>();
    const result = await raceAttempts<Omit<UpstreamResponse, 'attempts'>>({
      hedgeable: query,
      repeatable: options.kind !== 'write',
      maxAttempts: this.maxAttempts,
      hedgeDelayMs: query ? this.tail.hedgeDelay() : undefined,
      signal: options.signal,
      pick: (tried) => this.pool.pick(tried),
      hasLiveTwin: (tried) => this.pool.hasLiveReplica(tried),
      acquireBudget: () => this.retryBudget.tryAcquireRetry(),
      attempt: async (replica, role, raceController) => {
        // A first attempt with no other healthy replica to hedge or retry on keeps the fixed deadline:
        // cutting it short could only turn a slow answer (a stalled machine) into a failure. An
        // ejected twin still counts, since a retry may go there (panic routing).
        const adapted = deadline.adapted && (role !== 'primary' || this.pool.hasHealthyReplica(new Set([replica])));
        const deadlineMs = adapted ? deadline.ms : this.tail.ceilingMs;
        if (adapted) this.tail.countAdaptedDeadlines(1);
        const outcome = await this.attempt(replica, body, options, { role, raceController, deadlineMs });
        if (outcome.kind === 'failed') failedOn.add(replica);
        if (outcome.kind === 'failed' && outcome.reason === 'timeout' && adapted) timedOut.push({ replica, downs: replica.downs, deadlineMs });
        return outcome;
      },
      backoff: () => jitter(this.retryBackoffMs, options.signal),
      onHedge: (verdict) => this.tail.countHedge(verdict),
      onRetry: (rule) => this.countRetry(rule),
      onRetryRefused: (refusal) => this.countRetryRefused(refusal),
    });
    if (result.ok) {
      if (result.winner === 'hedge') this.tail.countHedgeWon();
      return { ...result.value, attempts: result.attempts };
    }
    // No replica answered in time: the deadline may be what is wrong (see recordUnanswered).
    this.tail.recordUnanswered(timedOut);
    const retryable = options.kind !== 'write' || !result.reached;
    // The upstream failed as a whole only when no live replica is left beside those that failed this call.
    const upstreamWide = !this.pool.hasLiveReplica(failedOn);
    throw new UpstreamError(this.pool.name, result.reason, result.attempts, { cancelled: result.cancelled, retryable, write: !query, upstreamWide, reached: result.reached });
  }

  private async attempt(
    replica: Replica,
    body: string,
    options: UpstreamCallOptions,
    race: { role: AttemptRole; raceController: AbortController; deadlineMs: number },
  ): Promise<AttemptOutcome<Omit<UpstreamResponse, 'attempts'>>> {
    // The race's controller carries the deadline too: lost race, timeout and the caller's abort in one signal.
    const deadline = armDeadline(race.raceController, race.deadlineMs, options.signal);
    const started = performance.now();
    this.pool.onStart(replica);
    const request = {
      method: 'POST' as const,
      headers: { 'content-type': 'application/json', accept: 'application/json', ...options.headers, [DEADLINE_HEADER]: String(race.deadlineMs) },
      body,
      signal: deadline.signal,
      unsentSignal: this.pool.outageSignal(replica),
    };
    try {
      const res: SentResponse & { stream?: Readable } = options.stream ? await this.open(replica, request, deadline, options.signal) : await this.transport.send(replica.url, request);
      const latency = performance.now() - started;
      if (res.statusCode >= 500) {
        this.pool.onFailure(replica, latency);
        return { kind: 'failed', reason: 'http_5xx', retryable: RETRYABLE_STATUS.has(res.statusCode), reached: true };
      }
      this.pool.onSuccess(replica, latency);
      this.tail.tracker.record(latency);
      return {
        kind: 'answer',
        value: { status: res.statusCode, contentType: res.headers['content-type'], headers: res.headers, body: res.body, stream: res.stream, replica: replica.url },
      };
    } catch (error) {
      const latency = performance.now() - started;
      if (!deadline.timedOut && options.signal?.aborted) {
        this.pool.onFailure(replica, latency, false);
        // The caller's own (or propagated) deadline ran out, or the caller went away.
        const callerTimedOut = (options.signal.reason as { name?: string } | undefined)?.name === 'TimeoutError';
        return { kind: 'cancelled', reason: callerTimedOut ? 'timeout' : 'network' };
      }
      if (!deadline.timedOut && deadline.signal.reason === LOST_RACE) {
        // Lost the race. A first attempt its hedge overtook was slower than the hedge delay plus the
        // twin's whole answer: the pool steers away from it (see onOvertaken for why it does not
        // eject). A hedge that lost to a late first answer did nothing wrong.
        if (race.role === 'primary') this.pool.onOvertaken(replica);
        else this.pool.onFailure(replica, latency, false);
        return { kind: 'cancelled', reason: 'timeout' };
      }
      // Let go while queued for a replica that was ejected or found down: already counted against it.
      const outage = error instanceof ExchangeError && error.cause instanceof ReplicaOutage;
      this.pool.onFailure(replica, latency, !outage);
      // Only an exchange that broke before its request was written whole provably never reached the replica.
      const reached = !(error instanceof ExchangeError) || error.requestSent;
      return { kind: 'failed', reason: deadline.timedOut ? 'timeout' : 'network', retryable: true, reached };
    } finally {
      deadline.dispose();
    }
  }

  /**
   * An attempt whose body streams: the attempt's deadline (and its race) may end it only until the
   * headers arrive; after that the body is the caller's, ended by the caller's signal alone. A 5xx
   * is read whole, as `send` would.
   */
  private async open(replica: Replica, request: SendRequestOptions, deadline: Deadline, callerSignal: AbortSignal | undefined): Promise<SentResponse & { stream?: Readable }> {
    const opened = await this.transport.open(replica.url, { ...request, signal: callerSignal ?? NEVER_ABORTED, headersSignal: deadline.signal });
    if (opened.statusCode >= 500) return { statusCode: opened.statusCode, headers: opened.headers, body: await opened.text().catch(() => '') };
    return { statusCode: opened.statusCode, headers: opened.headers, body: '', stream: opened.body };
  }

  /** Closes the keep-alive connections this client owns. Idempotent. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.tail.close();
    if (this.ownsDispatcher) await this.dispatcher.close();
  }
}

/** The signal of a call nobody can cancel (no caller signal). */
const NEVER_ABORTED = new AbortController().signal;

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
