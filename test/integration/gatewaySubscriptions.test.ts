import pino from 'pino';
import { createClient } from 'graphql-sse';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../lib/config.ts';
import { PRINCIPAL_HEADER, signPrincipal } from '../../lib/principal.ts';
import { createGateway, type Gateway } from '../../supergraphs/createGateway.ts';
import { startTickerGraph, type TickerGraph } from '../support/tickerSubgraphs.ts';

// The gateway runs subscription plans on a supergraph that is not ours: a `primary` stream on one
// replica of `ticker`, the `rest` plan (labels) per event, resumption when the replica dies.
const SECRET = 'gateway-subscriptions-secret-0123456789';
let graph: TickerGraph;
let gateway: Gateway;
let url: string;

beforeAll(async () => {
  graph = await startTickerGraph();
  gateway = await createGateway({
    name: 'ticks',
    // GATEWAY_EXECUTOR passes through, so the suite runs on either plan executor.
    config: loadConfig({ HEALTH_CHECK_INTERVAL_MS: '200', GATEWAY_EXECUTOR: process.env.GATEWAY_EXECUTOR }),
    internalSecret: SECRET,
    supergraphSdl: graph.supergraphSdl,
    subgraphUrls: { ticker: graph.ticker.map((t) => t.url), labels: [graph.labels.url] },
    logger: pino({ level: 'silent' }),
  });
  ({ url } = await gateway.listen(0, '127.0.0.1'));
});
afterAll(async () => {
  await gateway?.close();
  await graph?.close();
});

type Tick = { n: number; label: string };
interface Received {
  ticks: Tick[];
  errors: Array<{ message: string; extensions?: Record<string, unknown> }>;
}

/** Subscribes with the stock graphql-sse client and collects every event until the stream ends. */
async function collect(query: string, onEvent?: (received: Received) => void | Promise<void>): Promise<Received> {
  const client = createClient({ url, retryAttempts: 0, headers: { [PRINCIPAL_HEADER]: signPrincipal({ scopes: [] }, SECRET) } });
  const received: Received = { ticks: [], errors: [] };
  try {
    for await (const result of client.iterate<{ ticks: Tick }>({ query })) {
      if (result.data?.ticks) received.ticks.push(result.data.ticks);
      received.errors.push(...((result.errors ?? []) as unknown as Received['errors']));
      await onEvent?.(received);
    }
  } finally {
    client.dispose();
  }
  return received;
}

describe('subscriptions through the gateway', () => {
  it('streams the primary subgraph and completes each event from the other subgraphs', async () => {
    const received = await collect('subscription { ticks(count: 5) { n label } }');
    expect(received.errors).toEqual([]);
    expect(received.ticks).toEqual([1, 2, 3, 4, 5].map((n) => ({ n, label: `label of t${n}` })));
  });

  it('resumes on the twin replica after the last event when the streaming replica dies, losing and repeating nothing', async () => {
    let killed = false;
    const received = await collect('subscription { ticks(count: 12, intervalMs: 20) { n label } }', async ({ ticks }) => {
      if (killed || ticks.length !== 4) return;
      killed = true;
      const streaming = graph.ticker.find((t) => t.open > 0)!;
      await streaming.kill();
    });
    expect(killed).toBe(true);
    expect(received.errors).toEqual([]);
    expect(received.ticks.map((t) => t.n)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
  });

  it('stops the subgraph’s generator when the client goes away', async () => {
    const generated = () => graph.ticker.reduce((sum, t) => sum + t.generated, 0);
    const before = generated();
    const client = createClient({ url, retryAttempts: 0, headers: { [PRINCIPAL_HEADER]: signPrincipal({ scopes: [] }, SECRET) } });
    const iterator = client.iterate({ query: 'subscription { ticks(count: 1000, intervalMs: 10) { n } }' })[Symbol.asyncIterator]();
    for (let i = 0; i < 3; i++) await iterator.next();
    await iterator.return?.();
    client.dispose();
    await expect.poll(() => graph.ticker.reduce((open, t) => open + t.open, 0), { timeout: 2_000 }).toBe(0);
    const stoppedAt = generated();
    await new Promise((resolve) => setTimeout(resolve, 100)); // ten ticks' worth: none may come
    expect(generated()).toBe(stoppedAt);
    expect(stoppedAt - before).toBeLessThan(50);
  });

  it('ends with STREAM_INTERRUPTED, never silently, when no replica can resume the stream', async () => {
    const received = await collect('subscription { ticks(count: 50, intervalMs: 20) { n } }', async ({ ticks }) => {
      if (ticks.length === 3) await Promise.all(graph.ticker.map((t) => t.kill()));
    });
    expect(received.ticks.map((t) => t.n)).toEqual([1, 2, 3]);
    expect(received.errors.at(-1)?.extensions).toMatchObject({ code: 'STREAM_INTERRUPTED', after: '3' });
  });
});
