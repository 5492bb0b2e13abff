import { writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { parse, validate } from 'graphql';
import pino from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig, type Config } from '../../../lib/config.ts';
import { SupergraphName } from '../../../lib/topology/loadTopology.ts';
import { createRouter, type Router } from '../../../router/createRouter.ts';
import type { GatewayClient } from '../../../router/gatewayClient.ts';
import { GRAPHIQL_CONTENT_SECURITY_POLICY } from '../../../router/routes/offlineGraphiQL.ts';

// In-process (router.fetch, no port): the GraphiQL page, its assets, the demo preload and `GET /`.
// The browser test (test/integration/graphiqlBrowser.test.ts) loads the same page in Chromium.
const SECRET = 'graphiql-test-secret-0123456789';
const DEMO_KEY = 'demo-key-for-graphiql-0123';

/** These tests never reach a gateway; a call would be a bug, so it fails loudly. */
function unusedGateway(supergraph: SupergraphName): GatewayClient {
  return {
    supergraph,
    execute: async () => ({ ok: false, failure: { reason: 'network', attempts: 1 }, detail: 'not expected in this test' }),
    lastAnsweredAt: () => undefined,
    close: async () => {},
  };
}

const routers: Router[] = [];
function routerWith(env: NodeJS.ProcessEnv): { router: Router; config: Config } {
  const config = loadConfig(env);
  const router = createRouter({
    config,
    internalSecret: SECRET,
    gateways: { identity: unusedGateway('identity'), commerce: unusedGateway('commerce') },
    logger: pino({ level: 'silent' }),
  });
  routers.push(router);
  return { router, config };
}
afterAll(() => Promise.all(routers.map((r) => r.close())));

const demo = routerWith({ DEMO_API_KEY: DEMO_KEY }).router;

function get(router: Router, path: string, headers: Record<string, string> = {}, method = 'GET') {
  return router.fetch(`http://router.test${path}`, { method, headers });
}

/** The page, and the JSON block its boot script renders GraphiQL from. */
async function loadPage(router: Router) {
  const response = await get(router, '/graphql', { accept: 'text/html,application/xhtml+xml,*/*;q=0.8' });
  const html = await response.text();
  const json = /<script type="application\/json" id="graphiql-config">(.*?)<\/script>/s.exec(html)?.[1];
  expect(json, 'the page carries its GraphiQL options').toBeDefined();
  const config = JSON.parse(json!) as {
    options: Record<string, any>;
    workers: Record<string, string>;
    revision: string;
  };
  return { response, html, config };
}

describe('GraphiQL page', () => {
  it('is served from our origin with a strict CSP, no caching, and the title filled in', async () => {
    const { response, html } = await loadPage(demo);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(response.headers.get('content-security-policy')).toBe(GRAPHIQL_CONTENT_SECURITY_POLICY);
    expect(GRAPHIQL_CONTENT_SECURITY_POLICY).toMatch(/default-src 'none'/);
    expect(GRAPHIQL_CONTENT_SECURITY_POLICY).toMatch(/script-src 'self'(;|$)/);
    expect(response.headers.get('cache-control')).toBe('no-store');
    expect(response.headers.get('x-content-type-options')).toBe('nosniff');
    expect(html).toContain('<title>Supergraph router</title>');
    expect(html).toContain('Loading Supergraph router…');
    expect(html).not.toContain('__TITLE__');
    expect(html).not.toContain('__OPTS__');
    // Nothing absolute: every script, style, icon and worker comes from this origin.
    expect(html).not.toMatch(/\b(https?:)?\/\/[a-z0-9]/i);
    // No inline script may run: the only <script> without src is the JSON data block.
    const inline = [...html.matchAll(/<script(?![^>]*\bsrc=)([^>]*)>/g)].map((m) => m[1]);
    expect(inline).toEqual([' type="application/json" id="graphiql-config"']);
  });

  it('serves every asset the page names: hashed, immutable, with ETag, 304 and gzip', async () => {
    const { html, config } = await loadPage(demo);
    const paths = [
      ...[...html.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1]),
      ...Object.values(config.workers),
    ];
    expect(Object.keys(config.workers).sort()).toEqual(['editorWorkerService', 'graphql', 'json']);
    expect(paths).toHaveLength(4 + 3); // icon, stylesheet, boot, bundle; three workers
    for (const path of paths) {
      expect(path).toMatch(/^\/graphiql\/[a-z.]+\.[0-9a-f]{16}\.(js|css|ico)$/);
      const plain = await get(demo, path);
      expect(plain.status, path).toBe(200);
      expect(plain.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
      const etag = plain.headers.get('etag')!;
      expect(etag).toMatch(/^"[0-9a-f]{16}"$/);
      expect(path).toContain(etag.slice(1, -1)); // the name is the content hash
      const body = new Uint8Array(await plain.arrayBuffer());
      expect(body.byteLength).toBe(Number(plain.headers.get('content-length')));

      const again = await get(demo, path, { 'if-none-match': etag });
      expect(again.status).toBe(304);

      const zipped = await get(demo, path, { 'accept-encoding': 'gzip, deflate, br' });
      expect(zipped.headers.get('content-encoding')).toBe('gzip');
      expect(zipped.headers.get('etag')).not.toBe(etag);
      expect(gunzipSync(new Uint8Array(await zipped.arrayBuffer())).equals(body)).toBe(true);
    }
  });

  it('fetches nothing from elsewhere: no remote URL in the styles, no CDN in any script', async () => {
    const { html, config } = await loadPage(demo);
    const css = await (await get(demo, /href="(\/graphiql\/graphiql\.[0-9a-f]+\.css)"/.exec(html)![1])).text();
    const urls = [...css.matchAll(/url\(\s*['"]?([^'")]{0,16})/g)].map((m) => m[1]);
    expect(urls.length).toBeGreaterThan(0);
    expect(urls.filter((url) => !url.startsWith('data:'))).toEqual([]);
    expect(css).not.toMatch(/@import/);
    const scripts = [...html.matchAll(/src="([^"]+)"/g)].map((m) => m[1]).concat(Object.values(config.workers));
    for (const path of scripts) {
      const source = await (await get(demo, path)).text();
      expect(source, path).not.toMatch(/unpkg\.com|jsdelivr|cdnjs|googleapis|gstatic|esm\.sh|raw\.githubusercontent/);
    }
  });

  it('answers unknown asset names with 404 and other methods with 405', async () => {
    expect((await get(demo, '/graphiql/graphiql.0000000000000000.js')).status).toBe(404);
    expect((await get(demo, '/graphiql/')).status).toBe(404);
    const { html } = await loadPage(demo);
    const boot = /src="(\/graphiql\/boot\.[0-9a-f]+\.js)"/.exec(html)![1];
    const post = await get(demo, boot, {}, 'POST');
    expect([post.status, post.headers.get('allow')]).toEqual([405, 'GET, HEAD']);
    const head = await get(demo, boot, {}, 'HEAD');
    expect(head.status).toBe(200);
    expect(await head.text()).toBe('');
  });
});

describe('GraphiQL preloaded for the demo', () => {
  it('opens with the demo key in the headers and example tabs that are valid against the router schema', async () => {
    const { config } = await loadPage(demo);
    const bearer = { authorization: `Bearer ${DEMO_KEY}` };
    expect(JSON.parse(config.options.headers)).toEqual(bearer);
    expect(config.options.endpoint).toBe('/graphql');
    const tabs = config.options.defaultTabs as Array<{ query: string; variables?: string; headers: string }>;
    const names = tabs.map((tab) => /^(query|mutation|subscription) (\w+)/m.exec(tab.query)?.slice(1, 3).join(' '));
    expect(names).toEqual(['query AcrossSupergraphs', 'mutation PlaceOrder', 'query Fallback', 'subscription ChatStream']);
    for (const tab of tabs) expect(JSON.parse(tab.headers)).toEqual(bearer);

    const [across, placeOrder, fallback, chatStream] = tabs;
    for (const field of ['me', 'articles', 'myOrders']) expect(across.query).toMatch(new RegExp(`^  ${field}\\b`, 'm'));
    expect(JSON.parse(placeOrder.variables!).input.idempotencyKey).toEqual(expect.any(String));
    expect(fallback.query).toMatch(/kill -9 <pid of orders-0> <pid of orders-1>/);
    expect(fallback.query).toMatch(/errors/);
    expect(chatStream.query).toMatch(/chatStream\(input:/);

    // Tabs that drift from the schema would greet a newcomer with red squiggles; chatStream is
    // checked for syntax only until streamed chat adds it to the schema.
    for (const tab of [across, placeOrder, fallback]) {
      expect(validate(demo.routingTable.schema, parse(tab.query)).map((e) => e.message)).toEqual([]);
    }
    expect(() => parse(chatStream.query)).not.toThrow();
  });

  it('changes its revision with the key, so browsers drop tabs saved with an older key', async () => {
    const other = routerWith({ DEMO_API_KEY: `${DEMO_KEY}-other` }).router;
    const [a, b, again] = await Promise.all([loadPage(demo), loadPage(other), loadPage(demo)]);
    expect(a.config.revision).not.toBe(b.config.revision);
    expect(a.config.revision).toBe(again.config.revision);
  });

  it('shows no key and no tabs without a demo key, in production, or with GRAPHIQL_DEMO=false', async () => {
    for (const env of [{}, { NODE_ENV: 'production', GRAPHIQL: 'true', DEMO_API_KEY: DEMO_KEY }, { GRAPHIQL_DEMO: 'false', DEMO_API_KEY: DEMO_KEY }]) {
      const { html, config } = await loadPage(routerWith(env).router);
      expect(html, JSON.stringify(env)).not.toContain(DEMO_KEY);
      expect(config.options).toEqual({ title: 'Supergraph router', method: 'POST', endpoint: '/graphql', favicon: expect.stringMatching(/^\/graphiql\//) });
    }
  });
});

describe('router.graphiql config', () => {
  it('is on by default, off in production unless enabled, and names GRAPHIQL when it is not a boolean', () => {
    expect(loadConfig({}).router).toMatchObject({ graphiql: true, graphiqlDemo: true });
    expect(loadConfig({ NODE_ENV: 'production' }).router).toMatchObject({ graphiql: false, graphiqlDemo: false });
    expect(loadConfig({ NODE_ENV: 'production', GRAPHIQL: '1' }).router).toMatchObject({ graphiql: true, graphiqlDemo: false });
    expect(loadConfig({ GRAPHIQL: 'FALSE' }).router.graphiql).toBe(false);
    expect(() => loadConfig({ GRAPHIQL: 'maybe' })).toThrow(ConfigError);
    expect(() => loadConfig({ GRAPHIQL: 'maybe' })).toThrow(/router\.graphiql \(GRAPHIQL\): must be true or false/);
  });

  it('can be enabled in production from the config file too', () => {
    const file = join(mkdtempSync(join(tmpdir(), 'graphiql-config-')), 'config.json');
    writeFileSync(file, JSON.stringify({ router: { graphiql: true } }));
    expect(loadConfig({ NODE_ENV: 'production', CONFIG_FILE: file }).router.graphiql).toBe(true);
    expect(loadConfig({ NODE_ENV: 'production', CONFIG_FILE: file, GRAPHIQL: 'false' }).router.graphiql).toBe(false);
  });

  it('when off (and the chat page too), serves neither page nor assets, and `/` answers browsers with JSON', async () => {
    const { router } = routerWith({ GRAPHIQL: 'false', CHAT_PAGE: 'false', DEMO_API_KEY: DEMO_KEY });
    const page = await get(router, '/graphql', { accept: 'text/html' });
    // A GraphQL GET that accepts none of its formats: 406, before anything else is looked at.
    expect(page.status).toBe(406);
    expect(await page.text()).toBe('');
    expect((await get(router, '/graphiql/anything.js')).status).toBe(404);
    const index = await get(router, '/', { accept: 'text/html' });
    expect(index.status).toBe(200);
    expect((await index.json()).graphql).toEqual({ path: '/graphql', transports: ['http', 'sse', 'graphql-ws'] });
  });
});

describe('GET /', () => {
  it('sends browsers to GraphiQL when the chat page is off (chatPage.test.ts: on, it answers them)', async () => {
    const { router } = routerWith({ CHAT_PAGE: 'false', DEMO_API_KEY: DEMO_KEY });
    const response = await get(router, '/', { accept: 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8' });
    expect(response.status).toBe(302);
    expect(response.headers.get('location')).toBe('/graphql');
    expect(response.headers.get('vary')).toBe('accept');
  });

  it('describes the endpoints to JSON clients', async () => {
    for (const headers of [{}, { accept: 'application/json' }, { accept: '*/*' }] as Array<Record<string, string>>) {
      const response = await get(demo, '/', headers);
      expect(response.status).toBe(200);
      expect(response.headers.get('content-type')).toMatch(/^application\/json/);
      expect(await response.json()).toEqual({
        graphql: { path: '/graphql', transports: ['http', 'sse', 'graphql-ws'], graphiql: '/graphql' },
        health: { liveness: '/healthz', readiness: '/readyz' },
      });
    }
    const post = await get(demo, '/', {}, 'POST');
    expect(post.status).toBe(405);
  });
});
