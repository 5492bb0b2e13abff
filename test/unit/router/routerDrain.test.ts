import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../../lib/config.ts';
import type { StreamEvent } from '../../../lib/upstream/eventStream.ts';
import { createRouter, type Router } from '../../../router/createRouter.ts';
import type { GatewayClient } from '../../../router/gatewayClient.ts';
import { createRouterDrain } from '../../../router/routerDrain.ts';

// A router told to stop behind a balancer: not ready first, still serving for the notice, then its
// streams end without `complete` (the client resumes elsewhere), then it closes.
const SECRET = 'router-drain-secret-0123456789';
const routers: Router[] = [];
afterEach(async () => {
  await Promise.all(routers.splice(0).map((router) => router.close()));
});

describe('createRouterDrain', () => {
  it('gives the notice only when a balancer has probed the router', async () => {
    const slept: number[] = [];
    const sleep = async (ms: number) => void slept.push(ms);
    const unwatched = createRouterDrain({ noticeMs: 3_000, sleep });
    await unwatched.begin();
    expect(unwatched.draining).toBe(true);
    expect(unwatched.leaving.aborted).toBe(true);
    expect(slept).toEqual([]);

    let now = 1_000_000;
    const watched = createRouterDrain({ noticeMs: 3_000, sleep, now: () => now });
    watched.probed();
    now += 2_000;
    const begun = watched.begin();
    expect(watched.begin()).toBe(begun);
    expect(watched.draining).toBe(true);
    await begun;
    expect(slept).toEqual([3_000]);
    expect(watched.leaving.aborted).toBe(true);
  });

  it('skips the notice for a router nobody probed for a minute', async () => {
    let now = 0;
    const slept: number[] = [];
    const drain = createRouterDrain({ noticeMs: 3_000, now: () => now, sleep: async (ms) => void slept.push(ms) });
    drain.probed();
    now = 61_000;
    await drain.begin();
    expect(slept).toEqual([]);
  });
});

describe('a router draining behind a balancer', () => {
  it('reports draining, keeps serving during the notice, then ends its SSE streams without complete', async () => {
    const streamsClosed: string[] = [];
    const commerce: GatewayClient = {
      supergraph: 'commerce',
      execute: async () => ({ ok: true, status: 200, attempts: 1, result: { data: { models: [] } } }),
      subscribe: async () =>
        (async function* ticks(): AsyncGenerator<StreamEvent> {
          try {
            for (let index = 0; ; index++) {
              yield { event: 'next', id: `m1:${index}`, data: JSON.stringify({ data: { chatStream: { index } } }) };
              await new Promise((resolve) => setTimeout(resolve, 20));
            }
          } finally {
            streamsClosed.push('closed');
          }
        })(),
      lastAnsweredAt: () => Date.now(),
      close: async () => {},
    };
    // The key a chat stream needs (chatStream is @requiresScopes chat): identity knows it.
    const identity: GatewayClient = {
      ...commerce,
      supergraph: 'identity',
      subscribe: undefined,
      execute: async () => ({ ok: true, status: 200, attempts: 1, result: { data: { _internalAuthenticate: { userId: 'u1', scopes: ['chat'], user: { plan: 'PRO' } } } } }),
    };
    const base = loadConfig({});
    const router = createRouter({
      config: { ...base, router: { ...base.router, drainNoticeMs: 400 }, edge: { ...base.edge, rateLimit: { ...base.edge.rateLimit, enabled: false } } },
      internalSecret: SECRET,
      gateways: { identity, commerce },
      logger: pino({ level: 'silent' }),
    });
    routers.push(router);
    const { url } = await router.listen(0, '127.0.0.1');
    const readyz = url.replace('/graphql', '/readyz');
    expect((await fetch(readyz)).status).toBe(200); // a balancer's probe

    const stream = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'text/event-stream', authorization: 'Bearer chat-key' },
      body: JSON.stringify({ query: 'subscription { chatStream(input: { prompt: "hi" }) { index } }' }),
    });
    const text = stream.text();
    await new Promise((resolve) => setTimeout(resolve, 100));

    const started = performance.now();
    const closed = router.close();
    const notReady = await fetch(readyz);
    expect(notReady.status).toBe(503);
    expect(await notReady.json()).toMatchObject({ status: 'draining' });
    // Still serving during the notice: the balancer may send a request or two before it notices.
    const query = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query: '{ models { id } }' }) });
    expect(query.status).toBe(200);

    const body = await text; // ends cleanly: the body is whole, no reset
    const elapsed = performance.now() - started;
    expect(elapsed).toBeGreaterThanOrEqual(350);
    expect(body).not.toContain('event: complete');
    const ids = [...body.matchAll(/^id: (m1:\d+)$/gm)].map((m) => m[1]);
    expect(ids.length).toBeGreaterThan(10);
    expect(ids).toEqual(ids.map((_, i) => `m1:${i}`));
    await closed;
    // The gateway stream was let go of, not left open until the process exits.
    await expect.poll(() => streamsClosed, { timeout: 2_000 }).toEqual(['closed']);
  });
});
