import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ReplicaPool } from '../../../lib/upstream/replicaPool.ts';
import { RetryBudget } from '../../../lib/upstream/retryBudget.ts';
import { TailLatency } from '../../../lib/upstream/tailLatency.ts';
import type { TailLatencyOptions } from '../../../lib/upstream/tailLatencyPolicy.ts';
import { UpstreamClient, UpstreamError } from '../../../lib/upstream/upstreamClient.ts';

// Real HTTP replicas: `ok` answers at once, `hung` takes the request and never answers (a stopped
// process looks the same from outside). Hedges, deadlines and cancellations cross real sockets.
type Mode = 'ok' | 'hung';
interface TestReplica {
  server: Server;
  url: string;
  mode: Mode;
  hits: number;
  /** Requests the replica holds without answering; the client's abort closes them. */
  held: Set<ServerResponse>;
}
const replicas: TestReplica[] = [];

async function replica(): Promise<TestReplica> {
  const entry: TestReplica = { server: createServer(), url: '', mode: 'ok', hits: 0, held: new Set() };
  entry.server.on('request', (req, res) => {
    entry.hits++;
    req.resume();
    if (entry.mode === 'hung') {
      entry.held.add(res);
      res.on('close', () => entry.held.delete(res));
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json' }).end('{"data":{"ok":true}}');
  });
  await new Promise<void>((r) => entry.server.listen(0, '127.0.0.1', r));
  entry.url = `http://127.0.0.1:${(entry.server.address() as AddressInfo).port}/graphql`;
  replicas.push(entry);
  return entry;
}

beforeAll(async () => {
  await replica();
  await replica();
});
afterAll(async () => {
  for (const r of replicas) {
    r.server.closeAllConnections();
    await new Promise((done) => r.server.close(done));
  }
});
afterEach(() => {
  for (const r of replicas) {
    r.mode = 'ok';
    r.hits = 0;
    for (const res of r.held) res.destroy();
  }
});

const POLICY: TailLatencyOptions = {
  hedge: { enabled: true, percentile: 95, minDelayMs: 20, maxDelayMs: 60 },
  deadline: { enabled: true, percentile: 99, multiplier: 3, floorMs: 250 },
};
const CEILING_MS = 3_000;
const clients: UpstreamClient[] = [];
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()));
});

function client(options: { policy?: TailLatencyOptions; budget?: RetryBudget } = {}) {
  const c = new UpstreamClient({
    // least-request: a coin toss between two idle replicas, so the hung one still gets first attempts
    // (peak-EWMA would steer clear of it after a slow first connection and prove nothing).
    pool: new ReplicaPool({ name: 'test', urls: replicas.map((r) => r.url), balancer: 'least-request' }),
    timeoutMs: CEILING_MS,
    tailLatency: new TailLatency({ ceilingMs: CEILING_MS, policy: options.policy ?? POLICY, tracker: { minSamples: 10 }, confirmTimeoutsAfterMs: 50 }),
    retryBudget: options.budget ?? new RetryBudget({ minRetriesPerWindow: 1_000 }),
    retryBackoffMs: 1,
    breaker: { consecutiveFailures: 1_000 },
  });
  clients.push(c);
  return c;
}

const query = (c: UpstreamClient) => c.post('{}', { headers: {}, kind: 'query' });

/** Enough answers from healthy replicas that the client knows the upstream's latency. */
async function warmUp(c: UpstreamClient) {
  // A scheduling stall on a loaded machine may fail one call (a budget of zero cannot retry it): the
  // warm-up only needs answers to learn from, not every call.
  for (let i = 0; i < 30; i++) await query(c).catch(() => undefined);
  expect(c.tail.deadlineFor(true)).toMatchObject({ adapted: true });
}

async function timed<T>(work: () => Promise<T>): Promise<{ value: T; ms: number }> {
  const started = performance.now();
  const value = await work();
  return { value, ms: performance.now() - started };
}

describe('hedged queries', () => {
  it('answers every query from the healthy twin within about the hedge delay while one replica hangs, and cancels the hung attempt', async () => {
    const [hung, healthy] = replicas;
    const c = client();
    await warmUp(c);
    expect(c.tail.hedgeDelay()).toBeGreaterThanOrEqual(POLICY.hedge.minDelayMs);
    const before = c.tail.stats(); // a scheduling stall in the warm-up may already have cost a hedge
    hung.mode = 'hung';
    const results = [];
    for (let i = 0; i < 20; i++) results.push(await timed(() => query(c)));
    for (const { value, ms } of results) {
      expect(value.replica).toBe(healthy.url);
      expect(ms).toBeLessThan(POLICY.hedge.maxDelayMs + 500); // never the 3 s ceiling
    }
    const stats = c.tail.stats();
    // Hedges rescued the calls that went to the hung replica first (one sent to the hung replica for
    // a late answer of the healthy one would lose, hence won ≤ sent).
    expect(stats.hedgesWon - before.hedgesWon).toBeGreaterThanOrEqual(1);
    expect(stats.hedgesSent).toBeGreaterThanOrEqual(stats.hedgesWon);
    // The losers were cancelled: the hung replica holds no request once the client let go.
    await expect.poll(() => hung.held.size, { timeout: 2_000 }).toBe(0);
    // Overtaken first attempts steer picks away (peak-EWMA cost) but never eject: see the pool test below.
    const hungReplica = c.pool.all().find((r) => r.url === hung.url)!;
    expect(hungReplica.consecutiveOvertaken).toBeGreaterThanOrEqual(1);
    expect(c.pool.state().find((r) => r.url === hung.url)?.ejected).toBe(false);
  });

  it('never hedges a mutation, nor cuts it short: it keeps the fixed deadline on a hung replica', async () => {
    const [hung, twin] = replicas;
    const c = client();
    await warmUp(c);
    hung.mode = 'hung';
    const { deadlinesAdapted: adaptedBefore, hedgesSent: hedgesBefore } = c.tail.stats();
    // The caller gives up after 400 ms; a query would have been hedged at <= 60 ms and timed out at ~250 ms.
    for (let i = 0; i < 30; i++) {
      const [hungBefore, twinBefore] = [hung.hits, twin.hits];
      const { value, ms } = await timed(() =>
        c.post('{}', { headers: {}, kind: 'write', signal: AbortSignal.timeout(400) }).catch((e: unknown) => e),
      );
      if (hung.hits === hungBefore) continue; // landed on the twin: try again
      expect(value).toMatchObject({ cancelled: true, attempts: 1 });
      expect(ms).toBeGreaterThanOrEqual(390);
      expect(twin.hits).toBe(twinBefore);
      expect(c.tail.stats()).toMatchObject({ hedgesSent: hedgesBefore, deadlinesAdapted: adaptedBefore });
      return;
    }
    throw new Error('no mutation landed on the hung replica in 30 tries');
  });

  it('does not hedge an upstream with one live replica, nor cut its attempt short: there is nowhere else to go', async () => {
    const [hung, twin] = replicas;
    const c = client();
    await warmUp(c);
    c.pool.setHealth(c.pool.all().find((r) => r.url === twin.url)!, false);
    hung.mode = 'hung';
    const adaptedBefore = c.tail.stats().deadlinesAdapted;
    // The caller gives up at 600 ms; the adaptive deadline would have been 250 ms.
    const { value: error, ms } = await timed(() => c.post('{}', { headers: {}, kind: 'query', signal: AbortSignal.timeout(600) }).catch((e) => e));
    expect(error).toMatchObject({ cancelled: true, attempts: 1 });
    expect(ms).toBeGreaterThanOrEqual(590);
    expect(c.tail.stats()).toMatchObject({ hedgesSent: 0, hedgesSkipped: { no_live_twin: 1 }, deadlinesAdapted: adaptedBefore });
  });

  it('without hedging, times out a hung replica at the adaptive deadline and retries on its twin', async () => {
    const [hung, healthy] = replicas;
    const c = client({ policy: { ...POLICY, hedge: { ...POLICY.hedge, enabled: false } } });
    await warmUp(c);
    expect(c.tail.hedgeDelay()).toBeUndefined();
    hung.mode = 'hung';
    let slowest = 0;
    for (let i = 0; i < 10; i++) {
      const { value, ms } = await timed(() => query(c));
      expect(value.replica).toBe(healthy.url);
      slowest = Math.max(slowest, ms);
    }
    expect(hung.hits).toBeGreaterThan(0);
    expect(slowest).toBeGreaterThanOrEqual(POLICY.deadline.floorMs - 5); // a first attempt waited out the 250 ms deadline...
    expect(slowest).toBeLessThan(1_000); // ...not the 3 s ceiling
    expect(c.tail.stats().hedgesSent).toBe(0);
  });

  it('counts hedges against the retry budget: with none left, a slow first attempt is not doubled', async () => {
    const [hung, healthy] = replicas;
    const budget = new RetryBudget({ ratio: 0, minRetriesPerWindow: 0 });
    const c = client({ budget });
    await warmUp(c);
    hung.mode = 'hung';
    let skipped = 0;
    for (let i = 0; i < 10 && skipped === 0; i++) {
      await query(c).catch(() => undefined);
      skipped = c.tail.stats().hedgesSkipped.budget_spent ?? 0;
    }
    expect(skipped).toBeGreaterThan(0);
    expect(c.tail.stats().hedgesSent).toBe(0);
    expect(healthy.hits).toBeGreaterThan(0);
  });

  it('raises its deadline when no replica answers in time and both stay healthy (the upstream got slower)', async () => {
    const c = client();
    await warmUp(c);
    const before = c.tail.deadlineFor(true).ms;
    for (const r of replicas) r.mode = 'hung';
    await query(c).catch(() => undefined);
    await new Promise((r) => setTimeout(r, 300)); // the 50 ms confirmation, and the tracker's 250 ms re-sort
    expect(c.tail.deadlineFor(true).ms).toBeGreaterThan(before);
  });

  it('keeps its deadline when the replicas that did not answer fail their health checks (they hung)', async () => {
    const c = client();
    await warmUp(c);
    const before = c.tail.deadlineFor(true).ms;
    for (const r of replicas) r.mode = 'hung';
    await query(c).catch(() => undefined); // one call's two timeouts would already raise the p99 (see above)
    for (const r of c.pool.all()) c.pool.setHealth(r, false); // what the health checker does to a hung process
    for (const r of c.pool.all()) c.pool.setHealth(r, true); // ...and revived within the confirmation delay
    await new Promise((r) => setTimeout(r, 300));
    expect(c.tail.deadlineFor(true).ms).toBe(before);
  });

  it('sends no hedge for a first attempt that only looked slow because this process stalled', async () => {
    const c = client({ policy: { ...POLICY, hedge: { ...POLICY.hedge, minDelayMs: 20, maxDelayMs: 20 } } });
    await warmUp(c);
    const before = c.tail.stats().hedgesSent;
    for (let i = 0; i < 5; i++) {
      const pending = query(c);
      const until = performance.now() + 80; // the event loop is blocked past the 20 ms hedge delay
      while (performance.now() < until);
      await pending;
    }
    expect(c.tail.stats().hedgesSent).toBe(before);
  });

  it('sends no hedge while nothing is slow', async () => {
    const c = client({ policy: { ...POLICY, hedge: { ...POLICY.hedge, minDelayMs: 60, maxDelayMs: 60 } } });
    await warmUp(c);
    for (let i = 0; i < 50; i++) await query(c);
    expect(c.tail.stats().hedgesSent).toBeLessThanOrEqual(2); // a scheduling stall on a loaded machine may cost one
  });

  it('a replica whose first attempts hedges keep overtaking loses the pick, without being ejected', () => {
    const pool = new ReplicaPool({ name: 'p', urls: ['http://slow', 'http://fast'], consecutiveFailuresToEject: 3 });
    const [slow, fast] = pool.all();
    for (const r of [slow, fast]) for (let i = 0; i < 10; i++) {
      pool.onStart(r);
      pool.onSuccess(r, 5);
    }
    for (let i = 0; i < 3; i++) {
      pool.onStart(slow);
      pool.onOvertaken(slow);
    }
    expect(pool.state()[0]).toMatchObject({ ejected: false, inFlight: 0, failures: 0 });
    for (let i = 0; i < 20; i++) expect(pool.pick()).toBe(fast);
    pool.onStart(slow);
    pool.onSuccess(slow, 5); // one answer of its own and it competes again
    expect(slow.consecutiveOvertaken).toBe(0);
  });
});
