import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../../lib/config.ts';
import { startTracing } from '../../../lib/observability/tracing.ts';
import type { StreamEvent } from '../../../lib/upstream/eventStream.ts';
import type { Interrupted } from '../../../lib/upstream/resumableStream.ts';
import { createRouter, type Router } from '../../../router/createRouter.ts';
import type { GatewayClient, GatewayRequest } from '../../../router/gatewayClient.ts';
import { deferred } from '../../support/deferred.ts';
import { waitFor } from '../../support/graphqlClient.ts';

// In-process: a subscription through the router to a scripted commerce gateway whose stream the test
// holds open, to read the open-subscription gauge and the event counter, and the trace it carries on.
const SECRET = 'subscription-telemetry-secret-0123456789';
const TRACE_ID = '1af7651916cd43dd8448eb211c80319c';
const release = deferred<void>();
const opened: GatewayRequest[] = [];

const next = (index: number): StreamEvent => ({ event: 'next', data: JSON.stringify({ data: { chatStream: { index } } }), id: `m1:${index}` });
const commerce: GatewayClient = {
  supergraph: 'commerce',
  execute: async () => ({ ok: true, status: 200, attempts: 1, result: { data: {} } }),
  subscribe: async (request) => {
    opened.push(request);
    return (async function* (): AsyncGenerator<StreamEvent | Interrupted> {
      yield next(1);
      yield next(2);
      await release.promise;
      yield next(3);
    })();
  },
  lastAnsweredAt: () => undefined,
  close: async () => {},
};
// The key a chat stream needs (chatStream is @requiresScopes chat): identity knows it.
const identity: GatewayClient = {
  ...commerce,
  supergraph: 'identity',
  subscribe: undefined,
  execute: async () => ({ ok: true, status: 200, attempts: 1, result: { data: { _internalAuthenticate: { userId: 'u1', scopes: ['chat'], user: { plan: 'PRO' } } } } }),
};
let router: Router;
let metricsUrl: string;
let url: string;

beforeAll(async () => {
  startTracing({ serviceName: 'router' });
  const base = loadConfig({});
  router = createRouter({
    config: { ...base, edge: { ...base.edge, rateLimit: { ...base.edge.rateLimit, enabled: false } } },
    internalSecret: SECRET,
    gateways: { identity, commerce },
    logger: pino({ level: 'silent' }),
  });
  metricsUrl = `${(await router.listenAdmin(0, '127.0.0.1')).url}/metrics`;
  // Over HTTP: the listener is where a request's trace context is read.
  ({ url } = await router.listen(0, '127.0.0.1'));
});
afterAll(() => router.close());

async function sample(metric: string): Promise<number | undefined> {
  const line = (await fetch(metricsUrl).then((r) => r.text())).split('\n').find((l) => l.startsWith(`${metric}{`) && l.includes('graphql_operation_name="Stream"'));
  return line === undefined ? undefined : Number(line.slice(line.lastIndexOf(' ') + 1));
}

describe('subscription telemetry at the router', () => {
  it('counts open subscriptions and streamed events, and carries the client trace to the gateway', async () => {
    const response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'text/event-stream', authorization: 'Bearer chat-key', traceparent: `00-${TRACE_ID}-b7ad6b7169203331-01` },
      body: JSON.stringify({ query: 'subscription Stream { chatStream(input: { prompt: "hi" }) { index } }' }),
    });
    const reading = response.text();
    await waitFor(async () => (await sample('graphql_server_subscription_events_total')) === 2, 5_000, 20);
    expect(await sample('graphql_server_active_subscriptions')).toBe(1);
    expect(opened[0].headers!.traceparent).toMatch(new RegExp(`^00-${TRACE_ID}-`));

    release.resolve();
    expect(await reading).toContain('id: m1:3');
    await waitFor(async () => (await sample('graphql_server_active_subscriptions')) === 0, 5_000, 20);
    expect(await sample('graphql_server_subscription_events_total')).toBe(3);
  });
});
