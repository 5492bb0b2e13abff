import { describe, expect, it } from 'vitest';
import { ReplicaPool } from '../../../lib/upstream/replicaPool.ts';
import { RetryBudget } from '../../../lib/upstream/retryBudget.ts';
import { expandReplicaUrls } from '../../../lib/upstream/replicaDiscovery.ts';

function clock(start = 1_000_000) {
  let now = start;
  return { now: () => now, advance: (ms: number) => (now += ms) };
}

describe('ReplicaPool', () => {
  it('prefers the replica with fewer requests in flight (power of two choices)', () => {
    const pool = new ReplicaPool({ name: 't', urls: ['http://a', 'http://b'] });
    const [a, b] = pool.all();
    pool.onStart(a);
    pool.onStart(a);
    const picks = Array.from({ length: 100 }, () => pool.pick()!.url);
    expect(picks.every((url) => url === b.url)).toBe(true);
  });

  it('spreads load over all replicas when they are equal', () => {
    const pool = new ReplicaPool({ name: 't', urls: ['http://a', 'http://b', 'http://c'] });
    const counts = new Map<string, number>();
    for (let i = 0; i < 3000; i++) {
      const replica = pool.pick()!;
      pool.onStart(replica);
      counts.set(replica.url, (counts.get(replica.url) ?? 0) + 1);
      pool.onSuccess(replica, 1);
    }
    for (const count of counts.values()) expect(count).toBeGreaterThan(600);
  });

  it('sends less to a slow replica even when nothing is in flight, and tries it again once its latency has faded', () => {
    const time = clock();
    const pool = new ReplicaPool({ name: 't', urls: ['http://fast', 'http://slow'], now: time.now });
    const [fast, slow] = pool.all();
    for (const [replica, ms] of [[fast, 5], [slow, 150]] as const) {
      for (let i = 0; i < 5; i++) {
        pool.onStart(replica);
        pool.onSuccess(replica, ms);
      }
    }
    const picks = Array.from({ length: 200 }, () => pool.pick()!.url);
    expect(picks.filter((url) => url === 'http://slow')).toHaveLength(0);
    time.advance(60_000); // the slow sample has faded: worth another look
    const later = Array.from({ length: 200 }, () => pool.pick()!.url);
    expect(later.filter((url) => url === 'http://slow').length).toBeGreaterThan(20);
  });

  it('with the least-request balancer, looks at requests in flight only', () => {
    const pool = new ReplicaPool({ name: 't', urls: ['http://fast', 'http://slow'], balancer: 'least-request' });
    const [fast, slow] = pool.all();
    for (const [replica, ms] of [[fast, 5], [slow, 150]] as const) {
      for (let i = 0; i < 5; i++) {
        pool.onStart(replica);
        pool.onSuccess(replica, ms);
      }
    }
    const picks = Array.from({ length: 400 }, () => pool.pick()!.url);
    expect(picks.filter((url) => url === 'http://slow').length).toBeGreaterThan(100);
  });

  it('does not take fast failures for a fast replica', () => {
    const pool = new ReplicaPool({ name: 't', urls: ['http://ok', 'http://dead'], consecutiveFailuresToEject: 1000 });
    const [ok, dead] = pool.all();
    for (let i = 0; i < 5; i++) {
      pool.onStart(ok);
      pool.onSuccess(ok, 20);
    }
    for (let i = 0; i < 10; i++) {
      pool.onStart(dead);
      pool.onFailure(dead, 0.5);
    }
    expect(pool.state()[1].latencyEwmaMs).toBe(0);
    expect(pool.state()[1].errorRate).toBe(1);
    const picks = Array.from({ length: 100 }, () => pool.pick()!.url);
    expect(picks.filter((url) => url === 'http://dead')).toHaveLength(0);
  });

  it('ejects after consecutive failures, for longer each time, and brings the replica back', () => {
    const time = clock();
    const pool = new ReplicaPool({ name: 't', urls: ['http://a', 'http://b'], consecutiveFailuresToEject: 3, baseEjectionMs: 1000, maxEjectionMs: 3000, now: time.now });
    const [a] = pool.all();
    const failThrice = () => {
      for (let i = 0; i < 3; i++) {
        pool.onStart(a);
        pool.onFailure(a, 5);
      }
    };
    failThrice();
    expect(pool.state()[0]).toMatchObject({ ejected: true, ejectedForMs: 1000 });
    expect(new Set(Array.from({ length: 20 }, () => pool.pick()!.url))).toEqual(new Set(['http://b']));
    time.advance(1001);
    expect(pool.state()[0].ejected).toBe(false);
    failThrice();
    expect(pool.state()[0].ejectedForMs).toBe(2000);
    time.advance(2001);
    failThrice();
    expect(pool.state()[0].ejectedForMs).toBe(3000); // capped
  });

  it('never ejects more than the allowed share of replicas', () => {
    const pool = new ReplicaPool({ name: 't', urls: ['http://a', 'http://b', 'http://c', 'http://d'], consecutiveFailuresToEject: 1, maxEjectedShare: 0.5 });
    for (const replica of pool.all()) {
      pool.onStart(replica);
      pool.onFailure(replica, 1);
    }
    expect(pool.state().filter((r) => r.ejected)).toHaveLength(2);
  });

  it('does not count client cancellations as failures', () => {
    const pool = new ReplicaPool({ name: 't', urls: ['http://a'], consecutiveFailuresToEject: 1 });
    const [a] = pool.all();
    pool.onStart(a);
    pool.onFailure(a, 1, false);
    expect(pool.state()[0]).toMatchObject({ ejected: false, failures: 0, inFlight: 0 });
  });

  it('skips unhealthy replicas, and a revived one is back at once, ejection included', () => {
    const pool = new ReplicaPool({ name: 't', urls: ['http://a', 'http://b'], consecutiveFailuresToEject: 1 });
    const [a] = pool.all();
    pool.onStart(a);
    pool.onFailure(a, 1);
    pool.setHealth(a, false);
    expect(pool.pick()!.url).toBe('http://b');
    pool.setHealth(a, true);
    expect(pool.state()[0]).toMatchObject({ healthy: true, ejected: false });
  });

  it('a passing health check does not end the ejection of a replica that stayed up but failed calls', () => {
    const pool = new ReplicaPool({ name: 't', urls: ['http://a', 'http://b'], consecutiveFailuresToEject: 1 });
    const [a] = pool.all();
    pool.onStart(a);
    pool.onFailure(a, 1);
    pool.setHealth(a, true);
    expect(pool.state()[0].ejected).toBe(true);
  });

  it('excludes replicas already tried, and keeps state across a new replica list', () => {
    const pool = new ReplicaPool({ name: 't', urls: ['http://a', 'http://b'] });
    const [a] = pool.all();
    expect(pool.pick(new Set([a]))!.url).toBe('http://b');
    expect(pool.pick(new Set(pool.all()))).toBeUndefined();
    pool.onStart(a);
    pool.setUrls(['http://a', 'http://c']);
    expect(pool.state().map((r) => [r.url, r.inFlight])).toEqual([['http://a', 1], ['http://c', 0]]);
  });
});

describe('RetryBudget', () => {
  it('slides: the budget earned in the last window is still there just after it ends', () => {
    const time = clock();
    const budget = new RetryBudget({ ratio: 0.2, minRetriesPerWindow: 0, windowMs: 10_000, now: time.now });
    for (let i = 0; i < 1000; i++) {
      budget.recordRequest();
      time.advance(10);
    }
    time.advance(20); // just past the window's end
    let granted = 0;
    while (budget.tryAcquireRetry()) granted++;
    expect(granted).toBeGreaterThan(190);
  });

  it('allows retries up to the configured share of requests per window', () => {
    const time = clock();
    const budget = new RetryBudget({ ratio: 0.2, minRetriesPerWindow: 0, windowMs: 1000, now: time.now });
    for (let i = 0; i < 100; i++) budget.recordRequest();
    let granted = 0;
    while (budget.tryAcquireRetry()) granted++;
    expect(granted).toBe(20);
    time.advance(2001); // two windows on: the old counts no longer weigh in
    for (let i = 0; i < 10; i++) budget.recordRequest();
    expect(budget.tryAcquireRetry()).toBe(true);
    expect(budget.tryAcquireRetry()).toBe(true);
    expect(budget.tryAcquireRetry()).toBe(false);
  });
});

describe('DNS discovery', () => {
  it('expands a dns+ URL to one replica per address and leaves plain URLs alone', async () => {
    const lookup = async (host: string) => (host === 'orders.svc' ? ['10.0.0.2', '10.0.0.1', 'fd00::1'] : []);
    const urls = await expandReplicaUrls(['dns+http://orders.svc:4131/graphql', 'http://127.0.0.1:9/graphql'], lookup);
    expect(urls).toEqual([
      'http://10.0.0.1:4131/graphql',
      'http://10.0.0.2:4131/graphql',
      'http://[fd00::1]:4131/graphql',
      'http://127.0.0.1:9/graphql',
    ]);
  });

  it('resolves a real name (localhost) through the system resolver', async () => {
    const urls = await expandReplicaUrls(['dns+http://localhost:4131/graphql']);
    expect(urls).toContain('http://127.0.0.1:4131/graphql');
  });
});
