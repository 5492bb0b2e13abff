import { createServer, type ServerResponse } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { startHealthChecks } from '../../../lib/upstream/healthChecker.ts';
import { ReplicaPool } from '../../../lib/upstream/replicaPool.ts';
import { serveOnFreePort, type ServedOnFreePort } from '../../support/serveOnFreePort.ts';

// Active health checks against a real HTTP server whose /healthz can be made to hang: a hung or dead
// replica leaves the pool, a busy one that keeps answering real calls does not.
const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** A replica whose /healthz answers 200, or never while `hang` is set. */
async function replicaServer(): Promise<{ served: ServedOnFreePort; hang: (on: boolean) => void }> {
  let hanging = false;
  const held: ServerResponse[] = [];
  const server = createServer((request, response) => {
    if (hanging) return void held.push(response);
    response.end('ok');
  });
  const served = await serveOnFreePort(server);
  cleanups.push(() => served.close());
  return { served, hang: (on) => (hanging = on) };
}

function checkedPool(url: string) {
  const pool = new ReplicaPool({ name: 'replica', urls: [url] });
  const checks = startHealthChecks(pool, { intervalMs: 40, timeoutMs: 30, failureThreshold: 2 });
  cleanups.push(() => checks.close());
  return { pool, replica: pool.all()[0] };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('active health checks', () => {
  it('take out a replica whose /healthz hangs and which answers nothing else', async () => {
    const { served, hang } = await replicaServer();
    const { replica } = checkedPool(served.url);
    await sleep(100);
    expect(replica.healthy).toBe(true);
    hang(true);
    await expect.poll(() => replica.healthy, { timeout: 2_000, interval: 20 }).toBe(false);
    hang(false);
    await expect.poll(() => replica.healthy, { timeout: 2_000, interval: 20 }).toBe(true);
  });

  it('keep a busy replica whose /healthz times out while its real calls are answered', async () => {
    const { served, hang } = await replicaServer();
    const { pool, replica } = checkedPool(served.url);
    hang(true);
    // Real traffic keeps succeeding, as a loaded replica's does while its health endpoint waits its turn.
    const traffic = setInterval(() => {
      pool.onStart(replica);
      pool.onSuccess(replica, 5);
    }, 5);
    cleanups.push(() => clearInterval(traffic));
    await sleep(400); // ten rounds of checks, every one of them timed out
    expect(replica.healthy).toBe(true);
    clearInterval(traffic);
    await expect.poll(() => replica.healthy, { timeout: 2_000, interval: 20 }).toBe(false);
  });

  it('give a replica whose real calls are slow a longer probe; the same probes take out one without such calls', async () => {
    // Probes answered in ~80 ms against a 30 ms setting: a loaded machine, not a dead replica.
    const slow = createServer((_request, response) => void setTimeout(() => response.end('ok'), 80));
    const served = await serveOnFreePort(slow);
    cleanups.push(() => served.close());
    const { pool, replica } = checkedPool(served.url);
    pool.onStart(replica);
    pool.onSuccess(replica, 40.37); // its real calls take 40 ms (a fraction, as measured): probes may take up to 4 × 30 ms
    await sleep(400);
    expect(replica.healthy).toBe(true);

    // Without slow real calls the same probes time out: the replica leaves.
    const { replica: plain } = checkedPool(served.url);
    await sleep(400);
    expect(plain.healthy).toBe(false);
  });

  it('take out a replica that refuses connections, whatever its last answers', async () => {
    const { served } = await replicaServer();
    const { pool, replica } = checkedPool(served.url);
    await served.close();
    const traffic = setInterval(() => {
      pool.onStart(replica);
      pool.onSuccess(replica, 5);
    }, 5);
    cleanups.push(() => clearInterval(traffic));
    await expect.poll(() => replica.healthy, { timeout: 2_000, interval: 20 }).toBe(false);
  });

  it('probe with a { __typename } query by default, signed with the headers they are given', async () => {
    const seen: Array<{ method?: string; body: string; signature?: string }> = [];
    const server = createServer((request, response) => {
      let body = '';
      request.on('data', (chunk) => (body += chunk));
      request.on('end', () => {
        seen.push({ method: request.method, body, signature: request.headers['x-probe-signature'] as string | undefined });
        response.setHeader('content-type', 'application/json');
        response.end('{"data":{"__typename":"Query"}}');
      });
    });
    const served = await serveOnFreePort(server);
    cleanups.push(() => served.close());
    const pool = new ReplicaPool({ name: 'replica', urls: [served.url] });
    const checks = startHealthChecks(pool, { intervalMs: 40, timeoutMs: 200, probe: { kind: 'graphql', headers: () => ({ 'x-probe-signature': 'signed' }) } });
    cleanups.push(() => checks.close());
    await expect.poll(() => seen.length, { timeout: 2_000, interval: 20 }).toBeGreaterThan(1);
    expect(seen[0]).toEqual({ method: 'POST', body: JSON.stringify({ query: 'query HealthCheck { __typename }' }), signature: 'signed' });
    expect(pool.all()[0].healthy).toBe(true);
  });

  it('keep a replica whose probe is answered 404 or 405, and say so once per replica', async () => {
    let status = 200;
    const server = createServer((_request, response) => {
      response.statusCode = status;
      response.end();
    });
    const served = await serveOnFreePort(server);
    cleanups.push(() => served.close());
    const pool = new ReplicaPool({ name: 'replica', urls: [served.url] });
    const told: number[] = [];
    const checks = startHealthChecks(pool, { intervalMs: 30, timeoutMs: 200, probe: { kind: 'path', path: '/healthz' }, onMisconfigured: (_r, s) => told.push(s) });
    cleanups.push(() => checks.close());
    status = 404;
    await sleep(300); // ten rounds answered 404
    expect(pool.all()[0].healthy).toBe(true);
    expect(told).toEqual([404]);
    // A 5xx is a replica saying it cannot serve: that one counts.
    status = 503;
    await expect.poll(() => pool.all()[0].healthy, { timeout: 2_000, interval: 20 }).toBe(false);
  });
});
