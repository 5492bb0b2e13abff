import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearer, postGraphQL, waitFor } from '../support/graphqlClient.ts';
import { startOtlpReceiver, type OtlpReceiver, type ReceivedSpan } from '../support/otlpReceiver.ts';
import { DEMO_KEY, startTestStack, type TestStack } from '../support/testStack.ts';

// The whole stack as processes, exporting spans over OTLP/HTTP (JSON) to a receiver in this test.
let stack: TestStack;
let receiver: OtlpReceiver;
const TRACE_ID = '0af7651916cd43dd8448eb211c80319c';
const CLIENT_SPAN = 'b7ad6b7169203331';

beforeAll(async () => {
  receiver = await startOtlpReceiver();
  stack = await startTestStack({
    replicas: 1,
    env: { OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url, OTEL_BSP_SCHEDULE_DELAY: '100', LOG_LEVEL: 'info' },
  });
}, 120_000);

afterAll(async () => {
  await stack?.dispose();
  await receiver?.close();
});

describe('one request, one trace across router, gateways and subgraphs', () => {
  it('continues the client trace through every tier, each span under the one that called it', async () => {
    const { status, body } = await postGraphQL(
      stack.routerUrl,
      { query: 'query MeAndArticles { me { id name } articles(first: 2) { edges { node { id title views } } } }', operationName: 'MeAndArticles' },
      { ...bearer(DEMO_KEY), traceparent: `00-${TRACE_ID}-${CLIENT_SPAN}-01` },
    );
    expect(status).toBe(200);
    expect(body.errors).toBeUndefined();

    const ofTrace = () => receiver.spans.filter((s) => s.traceId === TRACE_ID);
    // Every tier's spans, the router's server span included: it ends last (after the answer is sent),
    // so its batch can reach the receiver after the subgraphs' ones.
    const servers = ['router', 'gateway-identity', 'gateway-commerce'];
    await waitFor(
      () =>
        ['subgraph-users', 'subgraph-articles', 'subgraph-analytics'].every((service) => ofTrace().some((s) => s.service === service)) &&
        servers.every((service) => ofTrace().some((s) => s.service === service && s.kind === 2)),
      15_000,
    );
    const spans = ofTrace();
    if (process.env.PRINT_TRACE) console.log(spans.map((s) => `${s.service} ${s.name} ${s.spanId}<-${s.parentSpanId}`).join('\n'));
    const byId = new Map(spans.map((s) => [s.spanId, s]));
    const parentOf = (span: ReceivedSpan) => (span.parentSpanId ? byId.get(span.parentSpanId) : undefined);
    const chainOf = (span: ReceivedSpan) => {
      const chain: string[] = [];
      for (let s: ReceivedSpan | undefined = span; s; s = parentOf(s)) chain.push(`${s.service}:${s.name}`);
      return chain.reverse();
    };

    // The router's server span continues the client's span.
    const root = spans.find((s) => s.service === 'router' && s.kind === 2)!;
    expect(root).toBeDefined();
    expect(root.parentSpanId).toBe(CLIENT_SPAN);
    expect(root.name).toBe('query MeAndArticles');
    for (const name of ['graphql.parse', 'graphql.validate', 'router.plan']) expect(parentOf(spans.find((s) => s.service === 'router' && s.name === name)!)).toBe(root);

    // A gateway call per supergraph under the router's span, each gateway's server span under its call.
    for (const supergraph of ['identity', 'commerce']) {
      const call = spans.find((s) => s.service === 'router' && s.name === `gateway ${supergraph}`)!;
      expect(parentOf(call)).toBe(root);
      expect(call.attributes).toMatchObject({ 'graphql.supergraph.name': supergraph, 'supergraph.outcome': 'answered', 'supergraph.attempts': 1 });
      const server = spans.find((s) => s.service === `gateway-${supergraph}` && s.kind === 2)!;
      expect(parentOf(server)).toBe(call);
    }

    // Every subgraph's server span hangs under a fetch span of its gateway, which names the replica.
    for (const [gateway, subgraph] of [['identity', 'users'], ['commerce', 'articles'], ['commerce', 'analytics']]) {
      const server = spans.find((s) => s.service === `subgraph-${subgraph}` && s.kind === 2)!;
      expect(server, `subgraph-${subgraph} server span`).toBeDefined();
      const fetch = parentOf(server)!;
      expect(fetch).toMatchObject({ service: `gateway-${gateway}`, name: `subgraph ${subgraph}` });
      expect(fetch.attributes).toMatchObject({ 'graphql.subgraph.name': subgraph, 'subgraph.outcome': 'answered', 'subgraph.attempts': 1 });
      expect(String(fetch.attributes['server.address'])).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/graphql$/);
      expect(chainOf(server).slice(0, 2)).toEqual(['router:query MeAndArticles', `router:gateway ${gateway}`]);
    }
    // @apollo/gateway's own spans (plan, fetch) join the same trace.
    expect(spans.some((s) => s.service === 'gateway-commerce' && s.name === 'gateway.plan')).toBe(true);
  });

  it('writes the trace id into the request log of every tier', async () => {
    const traceId = '5b8efff798038103d269b633813fc60c';
    const { status } = await postGraphQL(stack.routerUrl, { query: 'query Mine { me { id } }' }, { ...bearer(DEMO_KEY), traceparent: `00-${traceId}-eee19b7ec3c1b174-01` });
    expect(status).toBe(200);
    const logs = join(stack.dir, 'logs');
    const linesOf = (component: string) =>
      readFileSync(join(logs, `${component}.log`), 'utf8')
        .split('\n')
        .filter((l) => l.startsWith('{'))
        .map((l) => JSON.parse(l) as Record<string, unknown>);
    // Each process writes its line when its response is sent, through a pipe: wait for all three.
    const requestLine = (component: string) => linesOf(component).find((l) => l.trace_id === traceId && l.msg === 'request');
    await waitFor(() => ['router', 'gateway-identity', 'users-0'].every((component) => requestLine(component)), 10_000);
    expect(readdirSync(logs)).toContain('router.log');
    expect(requestLine('router')).toMatchObject({ operation: 'Mine', type: 'query', status: 200 });
    expect(requestLine('gateway-identity')).toMatchObject({ operation: 'Mine', status: 200 });
    expect(requestLine('users-0')).toMatchObject({ operation: 'Mine__users__0', status: 200 });
  });
});
