import { afterEach, describe, expect, it } from 'vitest';
import { verifyPrincipal } from '../../../lib/principal.ts';
import { createDeadline } from '../../../lib/upstream/deadline.ts';
import { createGatewayClient, type GatewayClient } from '../../../router/gatewayClient.ts';
import { refusedUrl, startFakeGateway, type FakeGateway } from './fakeGateway.ts';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  await Promise.all(cleanups.splice(0).map((cleanup) => cleanup()));
});

async function gateway(answer: Parameters<typeof startFakeGateway>[0]): Promise<FakeGateway> {
  const fake = await startFakeGateway(answer);
  cleanups.push(fake.close);
  return fake;
}

function client(urls: string[]): ReturnType<typeof createGatewayClient> {
  const created = createGatewayClient({ supergraph: 'commerce', urls, internalSecret: SECRET });
  cleanups.push(() => created.close());
  return created;
}

const SECRET = 'gateway-client-secret-0123456789';
const request = { query: '{ models { id } }', principal: { userId: 'u1', scopes: ['chat'] }, headers: { 'x-trace': 'on' } };
const signal = () => new AbortController().signal;

describe('gatewayClient', () => {
  it('POSTs JSON with the given headers, signs the principal and returns the GraphQL body', async () => {
    const fake = await gateway(() => ({ json: { data: { models: [] } } }));
    const c = client([fake.url]);
    expect(c.lastAnsweredAt()).toBeUndefined();
    const outcome = await c.execute({ ...request, variables: { a: 1 }, operationName: 'Q' }, signal());
    // A clean answer comes with its bytes; its data is parsed when read.
    expect(outcome).toMatchObject({ ok: true, status: 200, attempts: 1, raw: '{"data":{"models":[]}}' });
    expect(outcome.ok && outcome.result.data).toEqual({ models: [] });
    const withErrors = await gateway(() => ({ json: { data: null, errors: [{ message: 'x', extensions: { code: 'BAD_USER_INPUT' } }] } }));
    const parsed = await client([withErrors.url]).execute(request, signal());
    expect(parsed).toMatchObject({ ok: true, raw: undefined, result: { data: null, errors: [{ message: 'x' }] } });
    expect(fake.seen[0].body).toEqual({ query: request.query, variables: { a: 1 }, operationName: 'Q' });
    expect(fake.seen[0].headers['x-trace']).toBe('on');
    expect(verifyPrincipal(fake.seen[0].headers['x-internal-principal'] as string, SECRET)).toEqual({ userId: 'u1', scopes: ['chat'] });
    expect(fake.seen[0].headers['content-type']).toBe('application/json');
    expect(c.lastAnsweredAt()).toBeTypeOf('number');
  });

  it('spreads calls over the instances', async () => {
    const a = await gateway(() => ({ json: { data: {} } }));
    const b = await gateway(() => ({ json: { data: {} } }));
    const c = client([a.url, b.url]);
    await Promise.all(Array.from({ length: 40 }, () => c.execute(request, signal())));
    expect(a.seen.length + b.seen.length).toBe(40);
    expect(Math.min(a.seen.length, b.seen.length)).toBeGreaterThan(5);
  });

  it('treats a 4xx or 5xx that carries a GraphQL body as an answer', async () => {
    const fake = await gateway(() => ({ status: 400, json: { errors: [{ message: 'bad', extensions: { code: 'GRAPHQL_VALIDATION_FAILED' } }] } }));
    const outcome = await client([fake.url]).execute(request, signal());
    expect(outcome).toMatchObject({ ok: true, status: 400, result: { errors: [{ message: 'bad' }] } });
  });

  it('moves a query on to another instance when one refuses connections, but never retries a mutation', async () => {
    const fake = await gateway(() => ({ json: { data: { ok: true } } }));
    const c = client([await refusedUrl(), fake.url]);
    for (let i = 0; i < 10; i++) expect(await c.execute(request, signal())).toMatchObject({ ok: true });
    const dead = client([await refusedUrl()]);
    expect(await dead.execute(request, signal(), { kind: 'write' })).toMatchObject({ ok: false, failure: { reason: 'network', attempts: 1, retryable: true } });
  });

  it('sends a mutation that never reached an instance (connection refused) to the twin', async () => {
    const fake = await gateway(() => ({ json: { data: { ok: true } } }));
    const c = client([await refusedUrl(), fake.url]);
    for (let i = 0; i < 10; i++) expect(await c.execute(request, signal(), { kind: 'write' })).toMatchObject({ ok: true });
    expect(fake.seen.length).toBe(10);
    expect(c.upstream.client.retryStats().sent.unreached).toBeGreaterThanOrEqual(1);
  });

  it('reports network failure when every instance refuses', async () => {
    const c = client([await refusedUrl(), await refusedUrl()]);
    expect(await c.execute(request, signal())).toMatchObject({ ok: false, failure: { reason: 'network', attempts: 2 } });
  });

  it('retries a 5xx without a GraphQL body for queries but never for mutations', async () => {
    const a = await gateway(() => ({ status: 503, raw: 'Service Unavailable' }));
    const b = await gateway(() => ({ status: 502, raw: '<html>bad gateway</html>' }));
    const query = await client([a.url, b.url]).execute(request, signal());
    expect(query).toMatchObject({ ok: false, failure: { reason: 'http_5xx', attempts: 2 } });
    const before = a.seen.length + b.seen.length;
    const mutation = await client([a.url, b.url]).execute(request, signal(), { kind: 'write' });
    expect(mutation).toMatchObject({ ok: false, failure: { reason: 'http_5xx', attempts: 1, retryable: false } });
    expect(a.seen.length + b.seen.length).toBe(before + 1);
  });

  it('reports a 200 without a GraphQL body as bad_response', async () => {
    for (const reply of [{ raw: 'hello' }, { json: [1, 2] }, { json: { data: 'x' } }, { json: {} }]) {
      const fake = await gateway(() => reply);
      expect(await client([fake.url]).execute(request, signal()), JSON.stringify(reply)).toMatchObject({ ok: false, failure: { reason: 'bad_response' } });
    }
  });

  it('reports a deadline as timeout and does not retry it', async () => {
    const slow = await gateway(() => ({ json: { data: {} }, delayMs: 2_000 }));
    const other = await gateway(() => ({ json: { data: {} }, delayMs: 2_000 }));
    const deadline = createDeadline(100);
    try {
      const started = Date.now();
      const outcome = await client([slow.url, other.url]).execute(request, deadline.signal);
      expect(outcome).toMatchObject({ ok: false, failure: { reason: 'timeout', attempts: 1 } });
      expect(Date.now() - started).toBeLessThan(1_500);
      expect(slow.seen.length + other.seen.length).toBe(1);
    } finally {
      deadline.dispose();
    }
  });

  it('rejects when the caller aborts (the client went away)', async () => {
    const slow = await gateway(() => ({ json: { data: {} }, delayMs: 2_000 }));
    const controller = new AbortController();
    const pending = client([slow.url]).execute(request, controller.signal);
    setTimeout(() => controller.abort(new DOMException('client left', 'AbortError')), 50);
    await expect(pending).rejects.toMatchObject({ name: 'AbortError' });
  });

  it('closes idempotently and refuses calls afterwards', async () => {
    const fake = await gateway(() => ({ json: { data: {} } }));
    const c = createGatewayClient({ supergraph: 'identity', urls: [fake.url], internalSecret: SECRET });
    await c.execute(request, signal());
    await Promise.all([c.close(), c.close()]);
    await c.close();
    expect(await c.execute(request, signal())).toMatchObject({ ok: false, failure: { reason: 'network', attempts: 0 } });
  });
});
