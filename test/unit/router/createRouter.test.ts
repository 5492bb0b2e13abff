import { createServer } from 'node:http';
import pino from 'pino';
import { deferred } from '../../support/deferred.ts';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig, type Config } from '../../../lib/config.ts';
import { createRouter, type Router } from '../../../router/createRouter.ts';
import { serveOnFreePort } from '../../support/serveOnFreePort.ts';
import { refusedUrl, startFakeGateway, type FakeAnswer, type FakeGateway, type SeenRequest } from './fakeGateway.ts';

// Over real HTTP on port 0: the router's own server, undici pools and drain, with fake gateways.
const SECRET = 'create-router-secret-0123456789';
const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  await Promise.all(cleanups.splice(0).map((cleanup) => cleanup()));
});

async function gateway(answer: (request: SeenRequest) => FakeAnswer | Promise<FakeAnswer>): Promise<FakeGateway> {
  const fake = await startFakeGateway(answer);
  cleanups.push(fake.close);
  return fake;
}

function configFor(urls: { identity: string; commerce: string }): Config {
  const base = loadConfig({});
  // No balancer in front: a test that reads /readyz must not make close() wait the drain notice.
  return { ...base, router: { ...base.router, drainNoticeMs: 0, gatewayUrls: { identity: [urls.identity], commerce: [urls.commerce] } } };
}

async function start(config: Config): Promise<{ router: Router; url: string; port: number }> {
  const router = createRouter({ config, internalSecret: SECRET, logger: pino({ level: 'silent' }) });
  cleanups.push(() => router.close());
  const { url, port } = await router.listen(0, '127.0.0.1');
  return { router, url, port };
}

const post = (url: string, query: string, headers: Record<string, string> = {}) =>
  fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify({ query }) });

describe('createRouter over HTTP', () => {
  it('listens on a free port and merges answers from both gateways', async () => {
    const identity = await gateway(() => ({ json: { data: { me: { id: 'u1' } } } }));
    const commerce = await gateway(() => ({ json: { data: { models: [{ id: 'm1' }] } } }));
    const { url, port } = await start(configFor({ identity: identity.url, commerce: commerce.url }));
    expect(port).toBeGreaterThan(0);
    expect(url).toBe(`http://127.0.0.1:${port}/graphql`);

    const response = await post(url, '{ models { id } me { id } }');
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ data: { models: [{ id: 'm1' }], me: { id: 'u1' } } });
    expect(identity.seen[0].headers['x-internal-principal']).toMatch(/^v1\./);

    const ready = await fetch(url.replace('/graphql', '/readyz'));
    expect(ready.status).toBe(200);
  });

  it('relays a WRITE_CONFLICT a gateway reports, retryable, with Retry-After on the answer', async () => {
    // A key with the orders:write scope placeOrder needs.
    const identity = await gateway(() => ({ json: { data: { _internalAuthenticate: { userId: 'u1', scopes: ['orders:write'], user: { plan: 'PRO' } } } } }));
    const conflict = { message: 'The write conflicted with concurrent writes and changed nothing; send it again.', path: ['placeOrder'], extensions: { code: 'WRITE_CONFLICT', retryable: true, retryAfterSeconds: 1, serviceName: 'orders' } };
    const commerce = await gateway(() => ({ json: { data: null, errors: [conflict] } }));
    const { url } = await start(configFor({ identity: identity.url, commerce: commerce.url }));
    const response = await post(url, 'mutation { placeOrder(input: { idempotencyKey: "k-1", lines: [{ articleId: "a1", quantity: 1 }] }) { id } }', { authorization: 'Bearer writer' });
    expect(response.headers.get('retry-after')).toBe('1');
    const body = await response.json();
    expect(body.errors).toEqual([expect.objectContaining({ path: ['placeOrder'], extensions: expect.objectContaining({ code: 'WRITE_CONFLICT', retryable: true, retryAfterSeconds: 1 }) })]);
  });

  it('passes a clean one-supergraph answer on as the bytes the gateway sent, and parses one with errors', async () => {
    const clean = '{"data":{"models":[{"id":"m\\u00e9","name":"Écho"}]}}';
    const identity = await gateway(() => ({ json: { data: {} } }));
    const commerce = await gateway((request) =>
      request.body.query!.includes('nope') ? { json: { data: { models: null }, errors: [{ message: 'no', path: ['models'], extensions: { code: 'BAD_USER_INPUT' } }] } } : { raw: clean, json: undefined },
    );
    const { url } = await start(configFor({ identity: identity.url, commerce: commerce.url }));
    expect(await (await post(url, '{ models { id name } }')).text()).toBe(clean);
    const withErrors = await (await post(url, '{ models { id nope: name } }')).json();
    expect(withErrors.errors[0]).toMatchObject({ message: 'no', extensions: { code: 'BAD_USER_INPUT', supergraph: 'commerce' } });
  });

  it('hands on an answer the gateway says is data only as it arrives, never waiting for it whole', async () => {
    const identity = await gateway(() => ({ json: { data: {} } }));
    const rest = deferred();
    const commerce = createServer((request, response) => {
      request.resume();
      request.on('end', async () => {
        response.writeHead(200, { 'content-type': 'application/json', 'x-graphql-data-only': '1' });
        response.write('{"data":{"models":[{"id":"m1"}');
        await rest.promise;
        response.end(',{"id":"m2"}]}}');
      });
    });
    const served = await serveOnFreePort(commerce);
    cleanups.push(served.close);
    const commerceUrl = served.url;
    const { url } = await start(configFor({ identity: identity.url, commerce: commerceUrl }));
    const response = await post(url, '{ models { id } }');
    expect([response.status, response.headers.get('content-type')]).toEqual([200, 'application/json; charset=utf-8']);
    const reader = response.body!.getReader();
    // The first half reaches the client while the gateway still holds the second.
    expect(new TextDecoder().decode((await reader.read()).value)).toBe('{"data":{"models":[{"id":"m1"}');
    rest.resolve();
    let text = '';
    for (let step = await reader.read(); !step.done; step = await reader.read()) text += new TextDecoder().decode(step.value);
    expect(text).toBe(',{"id":"m2"}]}}');
  });

  it('reports a supergraph whose gateway is down on /readyz and still serves the other', async () => {
    const identity = await gateway(() => ({ json: { data: { me: { id: 'u1' } } } }));
    const { url } = await start(configFor({ identity: identity.url, commerce: await refusedUrl() }));
    const ready = await fetch(url.replace('/graphql', '/readyz'));
    expect(ready.status).toBe(503);
    expect(await ready.json()).toEqual({ status: 'unavailable', supergraphs: { identity: 'up', commerce: 'down' } });

    const response = await post(url, '{ me { id } models { id } }');
    const body = await response.json();
    expect(body.data).toEqual({ me: { id: 'u1' }, models: null });
    expect(body.errors[0].extensions).toMatchObject({ code: 'SUPERGRAPH_UNAVAILABLE', supergraph: 'commerce', reason: 'network' });
  });

  it('drains an in-flight request on close, then refuses connections; close is idempotent', async () => {
    const identity = await gateway(() => ({ json: { data: {} } }));
    const arrived = deferred();
    const release = deferred();
    const commerce = await gateway(async () => {
      arrived.resolve();
      await release.promise;
      return { json: { data: { models: [] } } };
    });
    const { router, url } = await start(configFor({ identity: identity.url, commerce: commerce.url }));
    const inFlight = post(url, '{ models { id } }');
    await arrived.promise;
    const closing = router.close();
    expect(router.close()).toBe(closing);
    release.resolve();
    const response = await inFlight;
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ data: { models: [] } });
    await closing;
    await expect(post(url, '{ models { id } }')).rejects.toThrow();
  });
});
