import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../../lib/config.ts';
import { createUpstreamMetrics } from '../../../lib/upstream/upstreamMetrics.ts';
import { createGatewayClient } from '../../../router/gatewayClient.ts';
import { startFakeGateway, type FakeAnswer } from './fakeGateway.ts';

// The router's side of hung replicas: two gateway instances of one supergraph, one of which stops
// answering. The router shares lib/upstream with the gateways, so the same hedges and deadlines apply,
// with the router's own deadline floor (a gateway may take a subgraph deadline to answer from its fallback).

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  await Promise.all(cleanups.splice(0).map((cleanup) => cleanup()));
});

const never = new Promise<FakeAnswer>(() => {});

async function instance() {
  const state = { hung: false };
  const fake = await startFakeGateway(() => (state.hung ? never : { json: { data: { models: [] } } }));
  cleanups.push(fake.close);
  return Object.assign(fake, { state });
}

function client(urls: string[], env: Record<string, string> = {}) {
  // least-request: a coin toss between idle instances, so the hung one still gets first attempts.
  const resilience = { ...loadConfig(env).resilience, balancer: 'least-request' as const };
  const created = createGatewayClient({ supergraph: 'commerce', urls, resilience, attemptTimeoutMs: 10_000, internalSecret: 'hedging-test-secret-0123456789' });
  cleanups.push(() => created.close());
  return created;
}

const request = { query: '{ models { id } }', principal: { scopes: [] } };
const signal = () => new AbortController().signal;

describe('router hedging across gateway instances', () => {
  it('answers from the healthy instance while the other hangs, and the metrics show the hedges', async () => {
    const [hung, healthy] = [await instance(), await instance()];
    // At the default 20% retry budget: once a hedge overtook the hung instance, the balancer steers
    // first attempts away from it (least-request weighs recent failures too), so few calls need one.
    const c = client([hung.url, healthy.url]);
    for (let i = 0; i < 40; i++) expect(await c.execute(request, signal())).toMatchObject({ ok: true });
    const before = c.upstream.client.tail.stats(); // a scheduling stall may already have cost a hedge
    hung.state.hung = true;
    const latencies: number[] = [];
    for (let i = 0; i < 20; i++) {
      const started = performance.now();
      const outcome = await c.execute(request, signal());
      expect(outcome, JSON.stringify({ outcome, tail: c.upstream.client.tail.stats() })).toMatchObject({ ok: true });
      latencies.push(performance.now() - started);
    }
    // Hedge delay ≤ 250 ms (HEDGE_MAX_DELAY_MS), against a fixed gateway deadline of 10 s.
    expect(Math.max(...latencies)).toBeLessThan(1_000);
    const metrics = await createUpstreamMetrics('router', () => ({ commerce: c.upstream })).registry.metrics();
    const sent = Number(metrics.match(/upstream_hedges_sent_total\{upstream="commerce",component="router"\} (\d+)/)?.[1]);
    const won = Number(metrics.match(/upstream_hedges_won_total\{upstream="commerce",component="router"\} (\d+)/)?.[1]);
    // Hedges rescued the calls that went to the hung instance first. (A hedge may also go to the hung
    // instance for a call the healthy one answered late; that one loses, so won ≤ sent.)
    expect(won - before.hedgesWon).toBeGreaterThanOrEqual(1);
    expect(sent).toBeGreaterThanOrEqual(won);
    // The router's query deadline follows the gateways' latency, but never below its own floor.
    expect(metrics).toMatch(/upstream_query_deadline_ms\{upstream="commerce",component="router"\} 1000\b/);
  });

  it('sends no hedge when hedging is off: a hung instance costs its first callers the adaptive deadline', async () => {
    const [hung, healthy] = [await instance(), await instance()];
    const c = client([hung.url, healthy.url], { HEDGE_ENABLED: 'false', GATEWAY_ADAPTIVE_DEADLINE_FLOOR_MS: '300', ADAPTIVE_DEADLINE_FLOOR_MS: '50' });
    for (let i = 0; i < 40; i++) await c.execute(request, signal());
    hung.state.hung = true;
    let slowest = 0;
    for (let i = 0; i < 10; i++) {
      const started = performance.now();
      expect(await c.execute(request, signal())).toMatchObject({ ok: true }); // the retry on the twin answers
      slowest = Math.max(slowest, performance.now() - started);
    }
    expect(c.upstream.client.tail.stats().hedgesSent).toBe(0);
    expect(slowest).toBeGreaterThanOrEqual(295); // someone waited out the 300 ms adaptive deadline...
    expect(slowest).toBeLessThan(2_000); // ...and not the 10 s fixed one
  });
});
