import { once } from 'node:events';
import pino from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../../lib/config.ts';
import type { SupergraphName } from '../../../lib/topology/loadTopology.ts';
import { createRouter, type Router } from '../../../router/createRouter.ts';
import type { GatewayClient } from '../../../router/gatewayClient.ts';
import { CHAT_PAGE_CONTENT_SECURITY_POLICY } from '../../../router/routes/chatPage.ts';
import { isLocalOperator } from '../../../router/routes/operatorSnapshotRoute.ts';

// The chat page's server side in process: the static files at `/` and under /chat/, their policy,
// and who may read /ops/state. The page itself runs in Chromium in test/integration/chatPageBrowser.test.ts.
const SECRET = 'chat-page-test-secret-0123456789';

function unusedGateway(supergraph: SupergraphName): GatewayClient {
  return { supergraph, execute: async () => ({ ok: false, failure: { reason: 'network', attempts: 1 }, detail: 'not expected here' }), lastAnsweredAt: () => undefined, close: async () => {} };
}

const routers: Router[] = [];
function routerWith(env: NodeJS.ProcessEnv = {}): Router {
  const router = createRouter({
    config: loadConfig(env),
    internalSecret: SECRET,
    gateways: { identity: unusedGateway('identity'), commerce: unusedGateway('commerce') },
    logger: pino({ level: 'silent' }),
  });
  routers.push(router);
  return router;
}
afterAll(() => Promise.all(routers.map((r) => r.close())));

const get = (router: Router, path: string, headers: Record<string, string> = {}, method = 'GET') => router.fetch(`http://router.test${path}`, { method, headers });

describe('the chat page', () => {
  const router = routerWith();

  it('is what a browser gets at `/`, under a strict policy, linking to GraphiQL', async () => {
    const page = await get(router, '/', { accept: 'text/html,application/xhtml+xml,*/*;q=0.8' });
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(page.headers.get('content-security-policy')).toBe(CHAT_PAGE_CONTENT_SECURITY_POLICY);
    expect(CHAT_PAGE_CONTENT_SECURITY_POLICY).not.toMatch(/unsafe|\*/);
    const html = await page.text();
    expect(html).toContain('<script type="module" src="/chat/chat.js"></script>');
    expect(html).toContain('href="/graphql"');
    expect(html).not.toMatch(/<script>|\son\w+=|style="/); // nothing inline for the policy to refuse
  });

  it('serves its modules and styles with validators, and nothing else from its folder', async () => {
    for (const [file, type] of [['chat.js', 'text/javascript'], ['transport.js', 'text/javascript'], ['opsPanel.js', 'text/javascript'], ['chat.css', 'text/css']]) {
      const response = await get(router, `/chat/${file}`);
      expect(response.status, file).toBe(200);
      expect(response.headers.get('content-type')).toContain(type);
      const etag = response.headers.get('etag')!;
      expect((await get(router, `/chat/${file}`, { 'if-none-match': etag })).status).toBe(304);
    }
    for (const path of ['/chat/index.html', '/chat/../createRouter.ts', '/chat/chat.js.map', '/chat/']) expect((await get(router, path)).status, path).toBe(404);
    expect((await get(router, '/chat/chat.js', {}, 'POST')).status).toBe(405);
  });

  it('leaves the GraphiQL link out when the router serves no GraphiQL (production)', async () => {
    const html = await (await get(routerWith({ NODE_ENV: 'production' }), '/', { accept: 'text/html' })).text();
    expect(html).not.toContain('graphiql-link');
    expect(html).toContain('id="sign-out"');
  });

  it('leaves `/` to the JSON index for everyone but browsers', async () => {
    const index = await get(router, '/', { accept: 'application/json' });
    expect(index.headers.get('content-type')).toMatch(/^application\/json/);
    expect((await index.json()).graphql.path).toBe('/graphql');
  });
});

describe('/ops/state', () => {
  it('is for a browser on the router’s own host only', () => {
    const none = new Headers();
    expect(isLocalOperator('127.0.0.1', none)).toBe(true);
    expect(isLocalOperator('::1', none)).toBe(true);
    expect(isLocalOperator('::ffff:127.0.0.1', none)).toBe(true);
    expect(isLocalOperator('127.3.2.1', none)).toBe(true);
    expect(isLocalOperator('10.0.0.7', none)).toBe(false);
    expect(isLocalOperator('::ffff:192.168.1.2', none)).toBe(false);
    expect(isLocalOperator('1270.0.0.1', none)).toBe(false);
    expect(isLocalOperator(undefined, none)).toBe(false);
    // A proxy on the same host relays strangers from loopback; its headers give it away.
    for (const header of ['x-forwarded-for', 'forwarded', 'x-real-ip', 'via', 'x-forwarded-host']) {
      expect(isLocalOperator('127.0.0.1', new Headers({ [header]: '203.0.113.9' })), header).toBe(false);
    }
  });

  it('answers a loopback caller over a real socket, 404 to a proxied one, and nothing at all with OPS_PANEL=off', async () => {
    const on = routerWith();
    const off = routerWith({ OPS_PANEL: 'off' });
    const urls: string[] = [];
    for (const router of [on, off]) {
      const { port } = await router.listen(0, '127.0.0.1');
      urls.push(`http://127.0.0.1:${port}/ops/state`);
    }
    const local = await fetch(urls[0]);
    expect(local.status).toBe(200);
    expect(local.headers.get('cache-control')).toBe('no-store');
    expect(await local.json()).toEqual({ at: expect.any(String), supergraphs: expect.any(Object) });
    expect((await fetch(urls[0], { headers: { 'x-forwarded-for': '203.0.113.9' } })).status).toBe(404);
    expect((await fetch(urls[1])).status).toBe(404);
    // In process (no socket, so no peer address) it is refused too.
    expect((await get(on, '/ops/state')).status).toBe(404);
  });
});
