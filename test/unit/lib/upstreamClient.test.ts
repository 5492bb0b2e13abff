import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Agent } from 'undici';
import { ReplicaPool } from '../../../lib/upstream/replicaPool.ts';
import { RetryBudget } from '../../../lib/upstream/retryBudget.ts';
import { UpstreamClient, UpstreamError } from '../../../lib/upstream/upstreamClient.ts';

// Real HTTP replicas whose behaviour each test sets: ok, 503, slow, or reset (the request is read
// whole, then the connection is destroyed: a replica that died after it may have acted).
type Mode = 'ok' | '503' | 'slow' | 'reset' | 'hang';
const servers: Array<{ server: Server; url: string; mode: Mode; hits: number }> = [];

async function replica() {
  const entry = { server: createServer(), url: '', mode: 'ok' as Mode, hits: 0 };
  entry.server.on('request', (req, res) => {
    entry.hits++;
    if (entry.mode === 'reset') return void req.on('end', () => req.socket.destroy()).resume();
    if (entry.mode === 'hang') return void req.resume();
    req.resume();
    if (entry.mode === '503') return void res.writeHead(503).end('unavailable');
    const answer = () => res.writeHead(200, { 'content-type': 'application/json' }).end('{"data":{"ok":true}}');
    if (entry.mode === 'slow') setTimeout(answer, 300);
    else answer();
  });
  await new Promise<void>((r) => entry.server.listen(0, '127.0.0.1', r));
  entry.url = `http://127.0.0.1:${(entry.server.address() as AddressInfo).port}/graphql`;
  servers.push(entry);
  return entry;
}

beforeAll(async () => {
  await replica();
  await replica();
});
afterAll(async () => {
  for (const s of servers) {
    s.server.closeAllConnections();
    await new Promise((r) => s.server.close(r));
  }
});

function client(urls: string[], extra: Partial<ConstructorParameters<typeof UpstreamClient>[0]> = {}) {
  return new UpstreamClient({
    pool: new ReplicaPool({ name: 'test', urls, consecutiveFailuresToEject: 100 }),
    timeoutMs: 100,
    retryBudget: new RetryBudget({ minRetriesPerWindow: 100 }),
    retryBackoffMs: 1,
    ...extra,
  });
}

describe('UpstreamClient', () => {
  it('retries a query once on the other replica after a 503', async () => {
    const [a, b] = servers;
    a.mode = '503';
    b.mode = 'ok';
    // A deadline far above an answer's time: this is about the 503, not about a loaded machine's stalls.
    const c = client([a.url, b.url], { timeoutMs: 2_000 });
    try {
      for (let i = 0; i < 10; i++) {
        const res = await c.post('{}', { headers: {}, kind: 'query' });
        expect(res.replica).toBe(b.url);
        expect(res.attempts).toBeLessThanOrEqual(2);
      }
    } finally {
      await c.close();
      a.mode = 'ok';
    }
  });

  it('never retries a mutation', async () => {
    const [a] = servers;
    a.mode = '503';
    a.hits = 0;
    const c = client([a.url, servers[1].url], { breaker: { consecutiveFailures: 100 } });
    try {
      let failures = 0;
      for (let i = 0; i < 10; i++) {
        await c.post('{}', { headers: {}, kind: 'write' }).catch((e) => {
          expect(e).toBeInstanceOf(UpstreamError);
          expect(e).toMatchObject({ reason: 'http_5xx', attempts: 1 });
          failures++;
        });
      }
      expect(failures).toBeGreaterThan(0);
      expect(failures).toBe(a.hits); // each failure was exactly one call to a, none retried
    } finally {
      await c.close();
      a.mode = 'ok';
    }
  });

  it('reports a timeout, and a client abort as cancelled', async () => {
    const [a] = servers;
    a.mode = 'slow';
    const c = client([a.url], { maxAttempts: 1 });
    try {
      await expect(c.post('{}', { headers: {}, kind: 'query' })).rejects.toMatchObject({ reason: 'timeout', cancelled: false });
      const controller = new AbortController();
      setTimeout(() => controller.abort(), 20);
      const slowClient = client([a.url], { timeoutMs: 5_000, maxAttempts: 1 });
      await expect(slowClient.post('{}', { headers: {}, kind: 'query', signal: controller.signal })).rejects.toMatchObject({ cancelled: true });
      await slowClient.close();
    } finally {
      await c.close();
      a.mode = 'ok';
    }
  });

  it('opens its breaker after consecutive failures and then fails at once with circuit_open', async () => {
    const c = client(['http://127.0.0.1:1/graphql'], { breaker: { consecutiveFailures: 3, halfOpenAfterMs: 60_000 }, maxAttempts: 1 });
    try {
      for (let i = 0; i < 3; i++) await expect(c.post('{}', { headers: {}, kind: 'query' })).rejects.toMatchObject({ reason: 'network' });
      expect(c.breakerState).toBe('open');
      const started = performance.now();
      await expect(c.post('{}', { headers: {}, kind: 'query' })).rejects.toMatchObject({ reason: 'circuit_open', attempts: 0 });
      expect(performance.now() - started).toBeLessThan(50);
    } finally {
      await c.close();
    }
  });

  it('lets one trial call through when half-open and closes again on success', async () => {
    const [a] = servers;
    a.mode = '503';
    const c = client([a.url], { breaker: { consecutiveFailures: 2, halfOpenAfterMs: 50 }, maxAttempts: 1 });
    try {
      for (let i = 0; i < 2; i++) await c.post('{}', { headers: {}, kind: 'query' }).catch(() => {});
      expect(c.breakerState).toBe('open');
      a.mode = 'ok';
      await new Promise((r) => setTimeout(r, 80));
      await c.post('{}', { headers: {}, kind: 'query' });
      expect(c.breakerState).toBe('closed');
    } finally {
      await c.close();
      a.mode = 'ok';
    }
  });

  it('sends an idempotent write to the twin after its replica died holding it, and a plain write never', async () => {
    const [a, b] = servers;
    a.mode = 'reset';
    b.mode = 'ok';
    const pool = new ReplicaPool({ name: 'test', urls: [a.url, b.url], random: () => 0 }); // a first
    const c = new UpstreamClient({ pool, timeoutMs: 1_000, retryBudget: new RetryBudget({ minRetriesPerWindow: 100 }), retryBackoffMs: 1 });
    try {
      a.hits = 0;
      const answer = await c.post('{}', { headers: {}, kind: 'idempotent' });
      expect(answer).toMatchObject({ replica: b.url, attempts: 2 });
      expect(a.hits).toBe(1);
      expect(c.retryStats().sent).toEqual({ repeatable: 1 });
      pool.all()[0].consecutiveFailures = 0;
      const write = await c.post('{}', { headers: {}, kind: 'write' }).catch((e: unknown) => e);
      // It may have been acted on: not sent again, and the client is told not to repeat it blindly.
      expect(write).toMatchObject({ reason: 'network', attempts: 1, retryable: false });
      expect((write as UpstreamError).failure).toEqual({ reason: 'network', attempts: 1, retryable: false });
      expect(c.retryStats().refused).toEqual({ reached_write: 1 });
    } finally {
      await c.close();
      a.mode = 'ok';
    }
  });

  it('keeps its breaker closed while one replica fails writes and its twin is live: the replica is ejected instead', async () => {
    const [a, b] = servers;
    a.mode = 'reset';
    b.mode = 'ok';
    const pool = new ReplicaPool({ name: 'test', urls: [a.url, b.url], consecutiveFailuresToEject: 3 });
    const c = new UpstreamClient({ pool, timeoutMs: 1_000, breaker: { consecutiveFailures: 2, halfOpenAfterMs: 60_000 } });
    try {
      const outcomes = await Promise.all(Array.from({ length: 16 }, () => c.post('{}', { headers: {}, kind: 'write' }).then(() => 'ok', (e: UpstreamError) => e.reason)));
      expect(outcomes.filter((o) => o !== 'ok').length).toBeGreaterThan(0); // the fault hit writes in flight on a
      expect(c.breakerState).toBe('closed');
      expect(pool.state()[0].ejected).toBe(true);
      for (let i = 0; i < 10; i++) expect(await c.post('{}', { headers: {}, kind: 'write' })).toMatchObject({ replica: b.url });
      // Once no live replica is left, the failures are the upstream's: the breaker opens.
      b.mode = 'reset';
      for (let i = 0; i < 4; i++) await c.post('{}', { headers: {}, kind: 'write' }).catch(() => {});
      expect(c.breakerState).toBe('open');
    } finally {
      await c.close();
      a.mode = 'ok';
      b.mode = 'ok';
    }
  });

  it('sends a write still queued for a replica that goes down to the twin; the one already written is not repeated', async () => {
    const [a, b] = servers;
    a.mode = 'hang';
    b.mode = 'ok';
    // One connection per replica: the second write to a waits in the dispatcher's queue, unwritten.
    const dispatcher = new Agent({ connections: 1 });
    const pool = new ReplicaPool({ name: 'test', urls: [a.url, b.url], random: () => 0 }); // a first
    const c = new UpstreamClient({ pool, timeoutMs: 1_500, dispatcher, retryBudget: new RetryBudget({ minRetriesPerWindow: 100 }), retryBackoffMs: 1 });
    try {
      a.hits = 0;
      const written = c.post('{}', { headers: {}, kind: 'write' }).catch((e: UpstreamError) => e);
      await new Promise((resolve) => setTimeout(resolve, 100));
      pool.all()[0].inFlight = 0; // keep a the cheaper pick: the second write queues behind the first
      const queued = c.post('{}', { headers: {}, kind: 'write' });
      await new Promise((resolve) => setTimeout(resolve, 100));
      expect(a.hits).toBe(1);
      pool.setHealth(pool.all()[0], false); // what two failed health checks do
      expect(await queued).toMatchObject({ replica: b.url });
      expect(c.retryStats().sent).toEqual({ unreached: 1 });
      expect(await written).toMatchObject({ reason: 'timeout', attempts: 1, retryable: false });
      expect(a.hits).toBe(1);
    } finally {
      await c.close();
      await dispatcher.close().catch(() => {});
      a.mode = 'ok';
    }
  });
});
