import { BrokenCircuitError, type CircuitBreakerPolicy } from 'cockatiel';
import { Agent, request, type Dispatcher } from 'undici';
import { breakerState, createBreaker, type BreakerState } from './circuitBreaker.ts';
import type { FailureReason, UpstreamFailure } from '../errors.ts';
import { createDeadline } from './deadline.ts';
import type { Replica, ReplicaPool } from './replicaPool.ts';
import { RetryBudget } from './retryBudget.ts';

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
  /** Deadline of one attempt. */
  timeoutMs: number;
  /** Shared keep-alive dispatcher. @default a new undici Agent owned (and closed) by this client */
  dispatcher?: Dispatcher;
  /** Shared retry budget. @default a new RetryBudget (20%) */
  retryBudget?: RetryBudget;
  /** Attempts for a retryable (idempotent) call: 2 = retry once on another replica. @default 2 */
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
 * POSTs GraphQL to one replica of a pool over keep-alive connections, with a deadline per attempt,
 * the caller's cancellation, and at most one retry on a different replica for idempotent calls.
 */
export class UpstreamClient {
  readonly pool: ReplicaPool;
  private readonly timeoutMs: number;
  private readonly dispatcher: Dispatcher;
  private readonly ownsDispatcher: boolean;
  private readonly retryBudget: RetryBudget;
  private readonly maxAttempts: number;
  private readonly retryBackoffMs: number;
  private readonly breaker: CircuitBreakerPolicy;
  private closed = false;

  constructor(options: UpstreamClientOptions) {
    this.pool = options.pool;
    this.timeoutMs = options.timeoutMs;
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
    const tried = new Set<Replica>();
    this.retryBudget.recordRequest();
    let lastReason: FailureReason = 'no_healthy_replica';
    for (let attempt = 1; ; attempt++) {
      const replica = this.pool.pick(tried);
      if (!replica) throw new UpstreamError(this.pool.name, lastReason, attempt - 1);
      tried.add(replica);
      const outcome = await this.attempt(replica, body, options);
      if ('response' in outcome) return { ...outcome.response, attempts: attempt };
      // Cancelled by the caller: not the upstream's fault, unless an earlier attempt had already
      // failed on its own (a hung replica whose retry the caller's deadline cut short must still
      // count against the breaker, or a hung subgraph never opens it).
      if (outcome.cancelled) throw new UpstreamError(this.pool.name, attempt > 1 ? lastReason : outcome.reason, attempt, attempt === 1);
      lastReason = outcome.reason;
      const mayRetry =
        options.idempotent &&
        outcome.retryable &&
        attempt < this.maxAttempts &&
        tried.size < this.pool.size &&
        this.retryBudget.tryAcquireRetry();
      if (!mayRetry) throw new UpstreamError(this.pool.name, lastReason, attempt);
      await jitter(this.retryBackoffMs, options.signal);
      if (options.signal?.aborted) throw new UpstreamError(this.pool.name, lastReason, attempt);
    }
  }

  private async attempt(
    replica: Replica,
    body: string,
    options: UpstreamCallOptions,
  ): Promise<
    | { response: Omit<UpstreamResponse, 'attempts'> }
    | { reason: FailureReason; retryable: boolean; cancelled: boolean }
  > {
    const deadline = createDeadline(this.timeoutMs, options.signal);
    const started = performance.now();
    this.pool.onStart(replica);
    try {
      const res = await request(replica.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/json', ...options.headers },
        body,
        signal: deadline.signal,
        dispatcher: this.dispatcher,
      });
      const text = await res.body.text();
      const latency = performance.now() - started;
      if (res.statusCode >= 500) {
        this.pool.onFailure(replica, latency);
        return { reason: 'http_5xx', retryable: RETRYABLE_STATUS.has(res.statusCode), cancelled: false };
      }
      this.pool.onSuccess(replica, latency);
      const contentType = res.headers['content-type'];
      return {
        response: {
          status: res.statusCode,
          contentType: Array.isArray(contentType) ? contentType[0] : contentType,
          body: text,
          replica: replica.url,
        },
      };
    } catch {
      const latency = performance.now() - started;
      const cancelled = !deadline.timedOut && Boolean(options.signal?.aborted);
      this.pool.onFailure(replica, latency, !cancelled);
      return { reason: deadline.timedOut ? 'timeout' : 'network', retryable: !cancelled, cancelled };
    } finally {
      deadline.dispose();
    }
  }

  /** Closes the keep-alive connections this client owns. Idempotent. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
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
