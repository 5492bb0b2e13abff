/**
 * Recent latency of one upstream, for the hedge delay and the adaptive deadline: a ring of the last
 * `sampleSize` answers, forgetting those older than `windowMs`. A reservoir this small sorts in
 * microseconds and is exact over what it holds, so no sketch (t-digest, HDR) is worth its weight;
 * the sorted copy is rebuilt only every few samples, not on every call that asks for a percentile.
 */
export interface LatencyTrackerOptions {
  /** Most recent samples kept. @default 256 */
  sampleSize?: number;
  /** Samples older than this no longer count. @default 30000 */
  windowMs?: number;
  /** Recent samples needed before a percentile is given at all. @default 20 */
  minSamples?: number;
  /** @default Date.now */
  now?: () => number;
}

/** New samples, or ms, after which the sorted copy is rebuilt. */
const RESORT_EVERY_SAMPLES = 16;
const RESORT_EVERY_MS = 250;

export class LatencyTracker {
  private readonly values: Float64Array;
  private readonly times: Float64Array;
  private readonly windowMs: number;
  private readonly minSamples: number;
  private readonly now: () => number;
  private next = 0;
  private stored = 0;
  private sorted: Float64Array = new Float64Array(0);
  private sortedAt = Number.NEGATIVE_INFINITY;
  private sinceSort = 0;

  constructor(options: LatencyTrackerOptions = {}) {
    const size = options.sampleSize ?? 256;
    if (!Number.isInteger(size) || size < 1) throw new Error(`latency tracker: sampleSize must be a positive integer, got ${size}`);
    this.values = new Float64Array(size);
    this.times = new Float64Array(size);
    this.windowMs = options.windowMs ?? 30_000;
    this.minSamples = Math.min(options.minSamples ?? 20, size);
    this.now = options.now ?? Date.now;
  }

  /** Adds one observed latency (ms). */
  record(latencyMs: number): void {
    if (!Number.isFinite(latencyMs) || latencyMs < 0) return;
    this.values[this.next] = latencyMs;
    this.times[this.next] = this.now();
    this.next = (this.next + 1) % this.values.length;
    this.stored = Math.min(this.stored + 1, this.values.length);
    this.sinceSort += 1;
  }

  /** Samples inside the window, as of the last rebuild. */
  get sampleCount(): number {
    this.refresh();
    return this.sorted.length;
  }

  /**
   * The p-th percentile (0–100, nearest rank) of recent samples, or undefined while fewer than
   * `minSamples` are recent: a guess from a handful of answers would hedge or cut short at random.
   */
  percentile(p: number): number | undefined {
    this.refresh();
    const n = this.sorted.length;
    if (n < this.minSamples || n === 0) return undefined;
    const rank = Math.min(n - 1, Math.max(0, Math.ceil((p / 100) * n) - 1));
    return this.sorted[rank];
  }

  private refresh(): void {
    const now = this.now();
    const cold = this.sorted.length < this.minSamples;
    const due = this.sinceSort >= RESORT_EVERY_SAMPLES || now - this.sortedAt >= RESORT_EVERY_MS;
    // While cold, every new sample may be the one that makes the estimate usable: no waiting then.
    if (!(due || (cold && this.sinceSort > 0))) return;
    const oldest = now - this.windowMs;
    const recent: number[] = [];
    for (let i = 0; i < this.stored; i++) if (this.times[i] >= oldest) recent.push(this.values[i]);
    this.sorted = Float64Array.from(recent).sort();
    this.sortedAt = now;
    this.sinceSort = 0;
  }
}
