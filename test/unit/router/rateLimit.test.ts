import { afterEach, describe, expect, it } from 'vitest';
import { gcraStep } from '../../../router/rateLimit/gcra.ts';
import { createMemoryRateLimiter } from '../../../router/rateLimit/memoryRateLimiter.ts';
import { edgeRouter, type EdgeRouter } from './edgeRouter.ts';

// The real router with the in-memory limiter on a test clock: no sleeps, time moves when told.
const PLANS = {
  FREE: { limit: 2, windowSeconds: 10 },
  PRO: { limit: 5, windowSeconds: 10 },
  ENTERPRISE: { limit: 50, windowSeconds: 10 },
};
let now = 1_000_000;
const opened: EdgeRouter[] = [];
afterEach(async () => {
  await Promise.all(opened.splice(0).map((r) => r.router.close()));
});

function limitedRouter(rateLimit: Record<string, unknown> = {}): EdgeRouter {
  const edge = edgeRouter({
    rateLimiter: createMemoryRateLimiter({ now: () => now }),
    edge: { rateLimit: { anonymous: { limit: 3, windowSeconds: 60 }, plans: PLANS, ...rateLimit } },
  });
  opened.push(edge);
  return edge;
}

const MODELS = { query: '{ models { id } }' };
const key = (apiKey: string) => ({ authorization: `Bearer ${apiKey}` });

describe('rate limits: anonymous callers', () => {
  it('answers every request with the IETF RateLimit-Policy and RateLimit fields', async () => {
    const { post } = limitedRouter();
    const first = await post(MODELS);
    expect(first.status).toBe(200);
    expect(first.headers.get('ratelimit-policy')).toBe('"anonymous";q=3;w=60');
    expect(first.headers.get('ratelimit')).toBe('"anonymous";r=2;t=20');
    const second = await post(MODELS);
    expect(second.headers.get('ratelimit')).toBe('"anonymous";r=1;t=40');
    expect(second.headers.get('retry-after')).toBeNull();
  });

  it('refuses the request over the limit with 429, one RATE_LIMITED error and Retry-After, before any gateway', async () => {
    const { post, calls } = limitedRouter();
    for (let i = 0; i < 3; i++) expect((await post(MODELS)).status).toBe(200);
    const refused = await post(MODELS);
    expect(refused.status).toBe(429);
    expect(refused.body).toEqual({
      errors: [{ message: 'Rate limit exceeded: retry in 20 s.', extensions: { code: 'RATE_LIMITED', retryAfterSeconds: 20 } }],
    });
    expect(refused.headers.get('retry-after')).toBe('20');
    expect(refused.headers.get('ratelimit')).toBe('"anonymous";r=0;t=60');
    expect(refused.headers.get('ratelimit-policy')).toBe('"anonymous";q=3;w=60');
    expect(calls).toHaveLength(3);

    // A refusal takes nothing: once Retry-After has passed, exactly one request fits again.
    now += 19_999;
    expect((await post(MODELS)).status).toBe(429);
    now += 1;
    expect((await post(MODELS)).status).toBe(200);
    expect((await post(MODELS)).status).toBe(429);
  });

  it('counts a refused API key against the caller address, so guessing keys is limited too', async () => {
    const { post } = limitedRouter();
    for (let i = 0; i < 3; i++) {
      const guess = await post(MODELS, key(`guess-${i}-0000000`));
      expect(guess.status).toBe(401);
      expect(guess.headers.get('ratelimit')).toBe(`"anonymous";r=${2 - i};t=${20 * (i + 1)}`);
    }
    const refused = await post(MODELS, key('guess-3-0000000'));
    expect([refused.status, refused.body.errors[0].extensions.code]).toEqual([429, 'RATE_LIMITED']);
  });

  it('counts a subscription once, at its start', async () => {
    const { router } = limitedRouter();
    const response = await router.fetch('http://router.test/graphql', {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'text/event-stream' },
      body: JSON.stringify({ query: 'subscription { chatStream }' }),
    });
    await response.text();
    expect(response.headers.get('ratelimit')).toBe('"anonymous";r=2;t=20');
  });
});

describe('rate limits: API keys by plan', () => {
  it('gives each key its own allowance under its user’s plan', async () => {
    const { post } = limitedRouter();
    const free = await post(MODELS, key('free-key-0001'));
    expect(free.headers.get('ratelimit-policy')).toBe('"free";q=2;w=10');
    expect((await post(MODELS, key('free-key-0001'))).status).toBe(200);
    const refused = await post(MODELS, key('free-key-0001'));
    expect([refused.status, refused.headers.get('retry-after')]).toEqual([429, '5']);

    // Another FREE key, a PRO key and anonymous callers are untouched by that flood.
    expect((await post(MODELS, key('free-key-0002'))).status).toBe(200);
    for (let i = 0; i < 5; i++) {
      const pro = await post(MODELS, { 'x-api-key': 'pro-key-00001' });
      expect(pro.status).toBe(200);
      expect(pro.headers.get('ratelimit')).toBe(`"pro";r=${4 - i};t=${2 * (i + 1)}`);
    }
    expect((await post(MODELS, key('pro-key-00001'))).status).toBe(429);
    expect((await post(MODELS)).status).toBe(200);
  });

  it('falls back to the default plan when the key’s plan cannot be read', async () => {
    const { post } = limitedRouter({ defaultPlan: 'PRO' });
    const answer = await post(MODELS, key('planless-key1'));
    expect(answer.status).toBe(200);
    expect(answer.headers.get('ratelimit-policy')).toBe('"pro";q=5;w=10');
  });
});

describe('rate limits over HTTP', () => {
  it('partitions anonymous callers by address (X-Forwarded-For only behind trusted proxies) and counts refusals in /metrics', async () => {
    const trusting = limitedRouter({ trustedProxyHops: 1, anonymous: { limit: 1, windowSeconds: 60 } });
    const { url } = await trusting.router.listen(0, '127.0.0.1');
    const send = (forwardedFor: string) =>
      fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', 'x-forwarded-for': forwardedFor }, body: JSON.stringify(MODELS) });
    expect((await send('203.0.113.7')).status).toBe(200);
    expect((await send('203.0.113.8')).status).toBe(200);
    expect((await send('198.51.100.1, 203.0.113.7')).status).toBe(429); // the proxy appended .7: the client is .7
    const admin = await trusting.router.listenAdmin(0, '127.0.0.1');
    const metrics = await (await fetch(`${admin.url}/metrics`)).text();
    expect(metrics).toMatch(/rate_limited_requests_total\{[^}]*policy="anonymous"[^}]*\} 1/);

    const untrusting = limitedRouter({ anonymous: { limit: 1, windowSeconds: 60 } });
    const other = await untrusting.router.listen(0, '127.0.0.1');
    const sendOther = (forwardedFor: string) =>
      fetch(other.url, { method: 'POST', headers: { 'content-type': 'application/json', 'x-forwarded-for': forwardedFor }, body: JSON.stringify(MODELS) });
    expect((await sendOther('203.0.113.7')).status).toBe(200);
    expect((await sendOther('203.0.113.8')).status).toBe(429); // a forged header buys no new allowance
  });
});

describe('GCRA', () => {
  it('allows a burst, then one request per emission interval, with exact remaining and retry times', () => {
    const policy = { name: 'p', limit: 10, windowSeconds: 1, burst: 3 };
    let tat: number | undefined;
    const take = (at: number) => {
      const step = gcraStep(tat, at, policy);
      if (step.nextTat !== undefined) tat = step.nextTat;
      return step.decision;
    };
    expect([take(0), take(0), take(0)].map((d) => d.remaining)).toEqual([2, 1, 0]);
    expect(take(0)).toEqual({ allowed: false, remaining: 0, retryAfterMs: 100, resetMs: 300 });
    expect(take(100)).toMatchObject({ allowed: true, remaining: 0 });
    expect(take(1_000)).toMatchObject({ allowed: true, remaining: 2, resetMs: 100 });
  });
});
