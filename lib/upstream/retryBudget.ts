/**
 * Caps the extra load retries add: over a sliding window, retries may be at most `ratio` of the
 * requests (plus a small floor so a quiet upstream can still retry at all). This keeps retries from
 * turning one struggling replica into a retry storm on the others. The window slides (the previous
 * window's counts weigh in by how much of it is still in range), so the budget does not collapse to
 * the floor every time a fixed window starts over.
 */
export interface RetryBudgetOptions {
  /** Largest share of retries over requests. @default 0.2 */
  ratio?: number;
  /** Retries always allowed per window. @default 3 */
  minRetriesPerWindow?: number;
  /** Window length. @default 10000 */
  windowMs?: number;
  /** @default Date.now */
  now?: () => number;
}

export class RetryBudget {
  private readonly ratio: number;
  private readonly minRetries: number;
  private readonly windowMs: number;
  private readonly now: () => number;
  private windowStart: number;
  private requests = 0;
  private retries = 0;
  private previousRequests = 0;
  private previousRetries = 0;

  constructor(options: RetryBudgetOptions = {}) {
    this.ratio = options.ratio ?? 0.2;
    this.minRetries = options.minRetriesPerWindow ?? 3;
    this.windowMs = options.windowMs ?? 10_000;
    this.now = options.now ?? Date.now;
    this.windowStart = this.now();
  }

  /** Moves to the current window; returns the weight of the previous one still in range. */
  private roll(): number {
    const now = this.now();
    const elapsed = now - this.windowStart;
    if (elapsed >= this.windowMs) {
      const windows = Math.floor(elapsed / this.windowMs);
      this.previousRequests = windows === 1 ? this.requests : 0;
      this.previousRetries = windows === 1 ? this.retries : 0;
      this.requests = 0;
      this.retries = 0;
      this.windowStart += windows * this.windowMs;
    }
    return 1 - (now - this.windowStart) / this.windowMs;
  }

  /** Counts one first attempt. */
  recordRequest(): void {
    this.roll();
    this.requests += 1;
  }

  /** Takes one retry from the budget; false when the budget is spent. */
  tryAcquireRetry(): boolean {
    const weight = this.roll();
    const requests = this.requests + this.previousRequests * weight;
    const retries = this.retries + this.previousRetries * weight;
    if (retries < this.minRetries || retries < requests * this.ratio) {
      this.retries += 1;
      return true;
    }
    return false;
  }
}
