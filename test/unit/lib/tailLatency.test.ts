import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../../lib/config.ts';
import { tailLatencyPolicy } from '../../../lib/config/tailLatencyConfig.ts';
import { LatencyTracker } from '../../../lib/upstream/latencyTracker.ts';
import { propagationMarginMs, withPropagatedDeadline } from '../../../lib/upstream/propagatedDeadline.ts';
import {
  attemptDeadline,
  decideHedge,
  DEFAULT_TAIL_LATENCY,
  hedgeDelayMs,
  type HedgeSituation,
} from '../../../lib/upstream/tailLatencyPolicy.ts';

/** A clock the test moves by hand. */
function clock(start = 1_000_000) {
  let t = start;
  return { now: () => t, advance: (ms: number) => void (t += ms) };
}

/** A tracker that has seen latencies 1..n ms (in shuffled order), all just now. */
function trackerWith(n: number, options: ConstructorParameters<typeof LatencyTracker>[0] = {}) {
  const time = clock();
  const tracker = new LatencyTracker({ now: time.now, sampleSize: 1_000, minSamples: 20, ...options });
  const values = Array.from({ length: n }, (_, i) => i + 1);
  for (let i = values.length - 1; i > 0; i--) {
    const j = (i * 7919) % (i + 1);
    [values[i], values[j]] = [values[j], values[i]];
  }
  for (const v of values) tracker.record(v);
  return { tracker, time };
}

describe('LatencyTracker', () => {
  it('gives nearest-rank percentiles of what it holds', () => {
    const { tracker, time } = trackerWith(100);
    time.advance(250);
    expect(tracker.percentile(50)).toBe(50);
    expect(tracker.percentile(95)).toBe(95);
    expect(tracker.percentile(99)).toBe(99);
    expect(tracker.percentile(100)).toBe(100);
    expect(tracker.sampleCount).toBe(100);
  });

  it('says nothing until it has minSamples, and starts as soon as it has them', () => {
    const time = clock();
    const tracker = new LatencyTracker({ now: time.now, minSamples: 5 });
    for (let i = 0; i < 4; i++) tracker.record(10);
    expect(tracker.percentile(99)).toBeUndefined();
    tracker.record(10);
    expect(tracker.percentile(99)).toBe(10); // no wait for the periodic re-sort while cold
  });

  it('keeps only the last sampleSize answers', () => {
    const time = clock();
    const tracker = new LatencyTracker({ now: time.now, sampleSize: 10, minSamples: 1 });
    for (let i = 0; i < 10; i++) tracker.record(1_000);
    for (let i = 0; i < 10; i++) tracker.record(5);
    time.advance(250);
    expect(tracker.percentile(100)).toBe(5);
    expect(tracker.sampleCount).toBe(10);
  });

  it('forgets answers older than the window', () => {
    const time = clock();
    const tracker = new LatencyTracker({ now: time.now, windowMs: 10_000, minSamples: 3 });
    for (let i = 0; i < 5; i++) tracker.record(400);
    time.advance(6_000);
    for (let i = 0; i < 5; i++) tracker.record(20);
    time.advance(250);
    expect(tracker.percentile(99)).toBe(400);
    time.advance(4_000); // the 400 ms answers are now 10.25 s old
    expect(tracker.percentile(99)).toBe(20);
    time.advance(10_000);
    expect(tracker.percentile(99)).toBeUndefined(); // nothing recent: back to cold
  });

  it('re-sorts after a batch of new samples or a quarter second, not on every question', () => {
    const time = clock();
    const tracker = new LatencyTracker({ now: time.now, minSamples: 1 });
    for (let i = 0; i < 20; i++) tracker.record(10);
    expect(tracker.percentile(100)).toBe(10);
    tracker.record(500);
    expect(tracker.percentile(100)).toBe(10); // one new sample, same instant: the cached order stands
    time.advance(250);
    expect(tracker.percentile(100)).toBe(500);
  });

  it('ignores values that are not latencies', () => {
    const { tracker, time } = trackerWith(20);
    tracker.record(Number.NaN);
    tracker.record(-5);
    tracker.record(Number.POSITIVE_INFINITY);
    time.advance(250);
    expect(tracker.sampleCount).toBe(20);
  });
});

describe('hedge delay', () => {
  const hedge = DEFAULT_TAIL_LATENCY.hedge;

  it('is the upstream’s p95 within the configured floor and cap', () => {
    expect(hedgeDelayMs(trackerWith(100).tracker, hedge)).toBe(95);
    expect(hedgeDelayMs(trackerWith(100).tracker, { ...hedge, minDelayMs: 120 })).toBe(120);
    expect(hedgeDelayMs(trackerWith(100).tracker, { ...hedge, maxDelayMs: 40 })).toBe(40);
    expect(hedgeDelayMs(trackerWith(1_000).tracker, hedge)).toBe(hedge.maxDelayMs); // p95 = 950 ms, capped
    expect(hedgeDelayMs(trackerWith(100).tracker, { ...hedge, percentile: 99 })).toBe(99);
  });

  it('is off while the upstream is cold or when disabled', () => {
    expect(hedgeDelayMs(trackerWith(19).tracker, hedge)).toBeUndefined();
    expect(hedgeDelayMs(trackerWith(100).tracker, { ...hedge, enabled: false })).toBeUndefined();
  });
});

describe('adaptive attempt deadline', () => {
  const deadline = { ...DEFAULT_TAIL_LATENCY.deadline, floorMs: 250 };

  it('is a multiple of p99 within the floor and the fixed ceiling', () => {
    expect(attemptDeadline(trackerWith(100).tracker, deadline, 4_000, true)).toEqual({ ms: 297, adapted: true }); // 3 × 99
    expect(attemptDeadline(trackerWith(50).tracker, deadline, 4_000, true)).toEqual({ ms: 250, adapted: true }); // 3 × 50 → floor
    expect(attemptDeadline(trackerWith(2_000).tracker, deadline, 4_000, true)).toEqual({ ms: 4_000, adapted: false }); // 3 × 1980 → ceiling
    expect(attemptDeadline(trackerWith(100).tracker, { ...deadline, multiplier: 5 }, 4_000, true)).toEqual({ ms: 495, adapted: true });
  });

  it('never lets the floor lift the deadline above the ceiling', () => {
    expect(attemptDeadline(trackerWith(20).tracker, { ...deadline, floorMs: 5_000 }, 1_000, true)).toEqual({ ms: 1_000, adapted: false });
  });

  it('keeps the ceiling for mutations, while cold, and when disabled', () => {
    expect(attemptDeadline(trackerWith(100).tracker, deadline, 4_000, false)).toEqual({ ms: 4_000, adapted: false });
    expect(attemptDeadline(trackerWith(10).tracker, deadline, 4_000, true)).toEqual({ ms: 4_000, adapted: false });
    expect(attemptDeadline(trackerWith(100).tracker, { ...deadline, enabled: false }, 4_000, true)).toEqual({ ms: 4_000, adapted: false });
  });

  it('follows the upstream: slower answers lengthen it, the old ones age out of the window', () => {
    const time = clock();
    const tracker = new LatencyTracker({ now: time.now, windowMs: 5_000, minSamples: 20 });
    for (let i = 0; i < 50; i++) tracker.record(20);
    expect(attemptDeadline(tracker, deadline, 4_000, true).ms).toBe(250);
    time.advance(3_000);
    for (let i = 0; i < 50; i++) tracker.record(300);
    time.advance(250);
    expect(attemptDeadline(tracker, deadline, 4_000, true).ms).toBe(900);
    time.advance(5_000);
    expect(attemptDeadline(tracker, deadline, 4_000, true)).toEqual({ ms: 4_000, adapted: false }); // all aged out
  });
});

describe('hedge decision', () => {
  const situation = (over: Partial<HedgeSituation> = {}): HedgeSituation & { budgetAsked: number } => {
    const s = { idempotent: true, attemptsStarted: 1, maxAttempts: 2, hasLiveTwin: true, budgetAsked: 0, acquireBudget: () => true, ...over };
    const acquire = s.acquireBudget;
    s.acquireBudget = () => {
      s.budgetAsked += 1;
      return acquire();
    };
    return s;
  };

  it('hedges a query with a live twin and budget left', () => {
    const s = situation();
    expect(decideHedge(s)).toBe('hedge');
    expect(s.budgetAsked).toBe(1);
  });

  it('never hedges a mutation, a call out of attempts, or an upstream with one live replica, and then spends no budget', () => {
    for (const [over, verdict] of [
      [{ idempotent: false }, 'mutation'],
      [{ attemptsStarted: 2 }, 'attempts_spent'],
      [{ hasLiveTwin: false }, 'no_live_twin'],
    ] as const) {
      const s = situation(over);
      expect(decideHedge(s)).toBe(verdict);
      expect(s.budgetAsked).toBe(0);
    }
  });

  it('does not hedge when the retry budget is spent', () => {
    expect(decideHedge(situation({ acquireBudget: () => false }))).toBe('budget_spent');
  });
});

describe('tail-latency config', () => {
  it('has defaults, reads the environment, and gives the router its own deadline floor', () => {
    const tail = loadConfig({}).resilience.tailLatency;
    expect(tailLatencyPolicy(tail)).toEqual(DEFAULT_TAIL_LATENCY);
    expect(tail.adaptiveDeadlineFloorMs).toBe(500);
    expect(tail.gatewayAdaptiveDeadlineFloorMs).toBe(1_000);
    const set = loadConfig({ HEDGE_ENABLED: 'false', HEDGE_MIN_DELAY_MS: '5', ADAPTIVE_DEADLINE_FLOOR_MS: '100', LATENCY_MIN_SAMPLES: '50' }).resilience.tailLatency;
    expect(set).toMatchObject({ hedgeEnabled: false, hedgeMinDelayMs: 5, adaptiveDeadlineFloorMs: 100, latencyMinSamples: 50 });
    expect(tailLatencyPolicy(set, 700).deadline.floorMs).toBe(700);
  });

  it('names the variable to fix', () => {
    expect(() => loadConfig({ HEDGE_PERCENTILE: '20' })).toThrow(/resilience\.tailLatency\.hedgePercentile \(HEDGE_PERCENTILE\)/);
    expect(() => loadConfig({ HEDGE_MIN_DELAY_MS: '300' })).toThrow(/hedgeMinDelayMs \(HEDGE_MIN_DELAY_MS\): 300 ms is above hedgeMaxDelayMs/);
    expect(() => loadConfig({ GATEWAY_ADAPTIVE_DEADLINE_FLOOR_MS: '400' })).toThrow(/GATEWAY_ADAPTIVE_DEADLINE_FLOOR_MS/);
    expect(() => loadConfig({ HEDGE_ENABLED: 'maybe' })).toThrow(/HEDGE_ENABLED/);
  });
});

describe('propagated deadline', () => {
  it('leaves the request signal alone without a usable header', () => {
    const signal = new AbortController().signal;
    for (const header of [null, undefined, '', 'soon', '-5', '0', '1e3', String(11 * 60_000)]) {
      expect(withPropagatedDeadline(signal, header)).toBe(signal);
    }
  });

  it('gives the callee the caller’s deadline less a margin, and says it was a timeout', async () => {
    expect(propagationMarginMs(1_000)).toBe(100);
    expect(propagationMarginMs(100)).toBe(25);
    const parent = new AbortController();
    const signal = withPropagatedDeadline(parent.signal, '40'); // 15 ms after the margin
    expect(signal.aborted).toBe(false);
    await expect.poll(() => signal.aborted, { timeout: 1_000, interval: 5 }).toBe(true);
    expect((signal.reason as DOMException).name).toBe('TimeoutError');
    const early = new AbortController();
    const combined = withPropagatedDeadline(early.signal, '60000');
    early.abort();
    expect(combined.aborted).toBe(true); // the request's own signal still counts
  });
});
