import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readGatewayMetrics, sampleSum } from '../support/gatewayMetrics.ts';
import { readGatewayState } from '../support/gatewayState.ts';
import { bearer, postGraphQL, waitFor, type GraphQLHttpResult } from '../support/graphqlClient.ts';
import { describeFailures, runLoad } from '../support/steadyLoad.ts';
import { DEMO_KEY, startTestStack, type TestStack } from '../support/testStack.ts';

// Writes survive what reads survive: an orders replica SIGKILLed under a stream of placeOrder costs no
// order and doubles none, with no retry by the client; a flash sale on three articles sells exactly
// the stock there is, every other order refused as BAD_USER_INPUT. Runs on the store TEST_DATABASE
// names (SQLite by default; CI runs it on PostgreSQL too), at the product's defaults.

const PLACE_ORDER = 'mutation($input: PlaceOrderInput!) { placeOrder(input: $input) { id total lines { quantity } } }';
const MY_ORDERS = '{ myOrders(first: 1) { totalCount } }';
/** Articles of the seed: one with plenty of stock for the kill, three for the flash sale. */
const PLENTY = 'a1';
const SALE = ['a2', 'a3', 'a4'];

let stack: TestStack;

beforeAll(async () => {
  stack = await startTestStack();
  const store = await stack.database.open();
  try {
    await store.db.updateTable('articles').set({ stock: 1_000_000 }).where('id', '=', PLENTY).execute();
  } finally {
    await store.close();
  }
}, 120_000);

afterAll(async () => {
  await stack?.dispose();
});

function placeOrder(idempotencyKey: string, articleId: string): Promise<GraphQLHttpResult> {
  return postGraphQL(stack.routerUrl, { query: PLACE_ORDER, variables: { input: { idempotencyKey, lines: [{ articleId, quantity: 1 }] } } }, bearer(DEMO_KEY));
}

async function myOrderCount(): Promise<number> {
  const { body } = await postGraphQL(stack.routerUrl, { query: MY_ORDERS }, bearer(DEMO_KEY));
  expect(body.errors).toBeUndefined();
  return body.data!.myOrders.totalCount as number;
}

describe('orders under a dead replica and a flash sale', () => {
  it('loses and doubles no order of 16 in flight when the orders replica serving them is SIGKILLed, with no retry by the client', async () => {
    const run = `kill-${Date.now()}`;
    const before = await myOrderCount();
    const retriesBefore = sampleSum(await readGatewayMetrics(stack, 'commerce'), 'upstream_retries_total', { upstream: 'orders' });
    const victimUrl = `http://127.0.0.1:${stack.get('orders-0').port}/graphql`;
    const breakerStates = new Set<string>();
    let inFlightAtKill = 0;
    const report = await runLoad({
      concurrency: 16,
      durationMs: 4_000,
      maxPerLoop: 100_000,
      send: (loop, n) => placeOrder(`${run}-${loop}-${n}`, PLENTY),
      until: (samples) => samples.length >= 300,
      async during() {
        // Under way first, then the kill while orders-0 holds writes in flight (the gateway's own count).
        await waitFor(async () => {
          const orders = (await readGatewayState(stack, 'commerce')).subgraphs.orders;
          inFlightAtKill = orders.replicas.find((r) => r.url === victimUrl)?.inFlight ?? 0;
          return orders.replicas.every((r) => r.requests > 20) && inFlightAtKill > 0;
        }, 15_000);
        await stack.kill('orders-0');
        // The breaker never opens: one dead replica is the replica's failure, not the subgraph's.
        for (let i = 0; i < 20; i++) {
          breakerStates.add((await readGatewayState(stack, 'commerce')).subgraphs.orders.breaker);
          await new Promise((resolve) => setTimeout(resolve, 100));
        }
      },
    });
    expect(report.failures, describeFailures(report.failures)).toHaveLength(0);
    expect(inFlightAtKill).toBeGreaterThan(0);
    expect([...breakerStates]).toEqual(['closed']);
    // The kill hit writes in flight or on their way: the gateway sent some to the twin.
    const retriesAfter = sampleSum(await readGatewayMetrics(stack, 'commerce'), 'upstream_retries_total', { upstream: 'orders' });
    expect(retriesAfter).toBeGreaterThan(retriesBefore);
    // One order per request, none twice, and myOrders counts exactly those.
    const ids = report.samples.map((s) => s.body!.data!.placeOrder.id as string);
    expect(new Set(ids).size).toBe(report.samples.length);
    const store = await stack.database.open();
    try {
      const stored = await store.db.selectFrom('orders').select(['id', 'idempotency_key']).where('idempotency_key', 'like', `${run}-%`).execute();
      expect(stored.map((o) => o.id).sort()).toEqual([...ids].sort());
    } finally {
      await store.close();
    }
    expect(await myOrderCount()).toBe(before + report.samples.length);
    console.info(`(orders) ${report.samples.length} orders, ${inFlightAtKill} in flight on orders-0 at the kill, ${retriesAfter - retriesBefore} sent to its twin, 0 failed`);
    await stack.restart('orders-0');
  }, 120_000);

  it('sells exactly the stock of three articles among 200 orders, 32 in flight: every other answer a stock refusal', async () => {
    await waitFor(async () => (await readGatewayState(stack, 'commerce')).subgraphs.orders.replicas.every((r) => r.healthy && !r.ejected), 15_000);
    const stockEach = 40;
    const store = await stack.database.open();
    try {
      await store.db.updateTable('articles').set({ stock: stockEach }).where('id', 'in', SALE).execute();
      const salesBefore = await store.db.selectFrom('article_stats').select(['article_id', 'sales']).where('article_id', 'in', SALE).execute();
      const run = `sale-${Date.now()}`;
      let next = 0;
      const answers: GraphQLHttpResult[] = [];
      await Promise.all(
        Array.from({ length: 32 }, async () => {
          for (let i = next++; i < 200; i = next++) answers.push(await placeOrder(`${run}-${i}`, SALE[i % SALE.length]));
        }),
      );
      expect(answers).toHaveLength(200);
      const sold = answers.filter((a) => a.body.data?.placeOrder);
      const refused = answers.filter((a) => !a.body.data?.placeOrder);
      const refusalCodes = new Set(refused.flatMap((a) => (a.body.errors ?? []).map((e) => e.extensions?.code)));
      expect([...refusalCodes], JSON.stringify(refused.slice(0, 2).map((a) => a.body))).toEqual(['BAD_USER_INPUT']);
      expect(answers.every((a) => a.status === 200)).toBe(true);
      expect(sold).toHaveLength(3 * stockEach);
      const stock = await store.db.selectFrom('articles').select(['id', 'stock']).where('id', 'in', SALE).execute();
      expect(stock.map((a) => a.stock)).toEqual([0, 0, 0]);
      const salesAfter = await store.db.selectFrom('article_stats').select(['article_id', 'sales']).where('article_id', 'in', SALE).execute();
      const gained = salesAfter.reduce((sum, a) => sum + a.sales, 0) - salesBefore.reduce((sum, a) => sum + a.sales, 0);
      expect(gained).toBe(3 * stockEach);
      console.info(`(flash sale) 200 orders on ${SALE.length} articles of ${stockEach}: ${sold.length} sold, ${refused.length} refused (BAD_USER_INPUT), stock left ${stock.map((a) => a.stock).join('/')}`);
    } finally {
      await store.close();
    }
  }, 120_000);
});
