/**
 * Caps the extra load retries add: within a sliding window, retries may be at most `ratio` of the
 * requests (plus a small floor so a quiet upstream can still retry at all). This keeps retries from
 * turning one struggling replica into a retry storm on the others.
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
  private windowStart = 0;
  private requests = 0;
  private retries = 0;

  constructor(options: RetryBudgetOptions = {}) {
    this.ratio = options.ratio ?? 0.2;
    this.minRetries = options.minRetriesPerWindow ?? 3;
    this.windowMs = options.windowMs ?? 10_000;
    this.now = options.now ?? Date.now;
  }

  private roll(): void {
    const now = this.now();
    if (now - this.windowStart >= this.windowMs) {
      this.windowStart = now;
      this.requests = 0;
      this.retries = 0;
    }
  }

  /** Counts one first attempt. */
  recordRequest(): void {
    this.roll();
    this.requests += 1;
  }

  /** Takes one retry from the budget; false when the budget is spent. */
  tryAcquireRetry(): boolean {
    this.roll();
    if (this.retries < this.minRetries || this.retries < this.requests * this.ratio) {
      this.retries += 1;
      return true;
    }
    return false;
  }
}
