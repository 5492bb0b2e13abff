import pino from 'pino';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../../lib/config.ts';
import type { StreamEvent } from '../../../lib/upstream/eventStream.ts';
import type { Interrupted } from '../../../lib/upstream/resumableStream.ts';
import { UpstreamError } from '../../../lib/upstream/upstreamClient.ts';
import { createRouter } from '../../../router/createRouter.ts';
import type { GatewayClient, GatewayRequest, SubscribeOptions } from '../../../router/gatewayClient.ts';
import { deferred } from '../../support/deferred.ts';

// In-process: the router's subscription path against a scripted commerce gateway.
const SECRET = 'routed-subscribe-secret-0123456789';
type Script = (request: GatewayRequest, options: SubscribeOptions) => Promise<AsyncGenerator<StreamEvent | Interrupted>>;
let script: Script;
const opened: Array<{ request: GatewayRequest; options: SubscribeOptions }> = [];

const commerce: GatewayClient = {
  supergraph: 'commerce',
  execute: async () => ({ ok: true, status: 200, attempts: 1, result: { data: {} } }),
  subscribe: (request, options) => {
    opened.push({ request, options });
    return script(request, options);
  },
  lastAnsweredAt: () => undefined,
  close: async () => {},
};
// The caller's key (chatStream is @requiresScopes chat): identity resolves it.
const identity: GatewayClient = {
  ...commerce,
  supergraph: 'identity',
  subscribe: undefined,
  execute: async () => ({ ok: true, status: 200, attempts: 1, result: { data: { _internalAuthenticate: { userId: 'u1', scopes: ['chat'], user: { plan: 'PRO' } } } } }),
};

const base = loadConfig({});
const router = createRouter({
  config: { ...base, router: { ...base.router, maxStreamsPerCaller: 2 }, edge: { ...base.edge, rateLimit: { ...base.edge.rateLimit, enabled: false } } },
  internalSecret: SECRET,
  gateways: { identity, commerce },
  logger: pino({ level: 'silent' }),
});
afterAll(() => router.close());
beforeEach(() => {
  opened.length = 0;
});

const next = (data: unknown, id?: string): StreamEvent => ({ event: 'next', data: JSON.stringify(data), id });
async function* events(...items: Array<StreamEvent | Interrupted>): AsyncGenerator<StreamEvent | Interrupted> {
  yield* items;
}

async function subscribe(headers: Record<string, string> = {}, signal?: AbortSignal) {
  return router.fetch('http://router.test/graphql', {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'text/event-stream', authorization: 'Bearer chat-key', ...headers },
    body: JSON.stringify({ query: 'subscription { chatStream(input: { prompt: "hi" }) { index } }' }),
    signal,
  });
}

describe('subscriptions at the router', () => {
  it('relays events with their ids, hands on the principal and passes Last-Event-ID on', async () => {
    script = async () => events(next({ data: { chatStream: { index: 4 } }, extensions: { eventId: 'm1:4' } }), next({ data: { chatStream: { index: 5 } } }, 'm1:5'));
    const response = await subscribe({ 'last-event-id': 'm1:3' });
    const text = await response.text();
    expect(text).toContain('id: m1:4\ndata: {"data":{"chatStream":{"index":4}},"extensions":{"eventId":"m1:4"}}');
    expect(text).toContain('id: m1:5\n');
    expect(text.trimEnd().endsWith('event: complete\ndata:')).toBe(true);
    expect(opened[0].options.lastEventId).toBe('m1:3');
    // The gateway client signs it: the router hands it the caller's principal.
    expect(opened[0].request.principal).toMatchObject({ userId: 'u1', scopes: ['chat'] });
  });

  it('sanitises relayed errors and ends a broken stream with STREAM_INTERRUPTED', async () => {
    script = async () =>
      events(
        next({ data: null, errors: [{ message: 'connect ECONNREFUSED 10.0.0.7:4161', extensions: { code: 'DOWNSTREAM_SERVICE_ERROR', stacktrace: ['at x'] } }] }),
        { event: 'interrupted', after: 'm1:7' },
      );
    const text = await (await subscribe()).text();
    expect(text).not.toMatch(/10\.0\.0\.7|stacktrace/);
    expect(text).toContain('"code":"DOWNSTREAM_SERVICE_ERROR"');
    expect(text).toMatch(/"code":"STREAM_INTERRUPTED".*"after":"m1:7"/);
  });

  it('answers SUPERGRAPH_UNAVAILABLE when no gateway instance can open the stream', async () => {
    script = async () => {
      throw new UpstreamError('commerce', 'no_healthy_replica', 0);
    };
    const text = await (await subscribe()).text();
    expect(text).toMatch(/"code":"SUPERGRAPH_UNAVAILABLE".*"reason":"no_healthy_replica"/);
  });

  it('holds a caller to its limit of open streams, and frees a slot when a stream ends', async () => {
    const hold = deferred();
    script = async () =>
      (async function* () {
        yield next({ data: { chatStream: { index: 0 } } });
        await hold.promise;
      })();
    const controllers = [new AbortController(), new AbortController()];
    const open = await Promise.all(controllers.map((c) => subscribe({}, c.signal)));
    const readers = open.map((response) => response.body!.getReader());
    await Promise.all(readers.map((reader) => reader.read()));
    const third = await subscribe();
    expect(third.status).toBe(429);
    expect(await third.text()).toContain('"code":"RATE_LIMITED"');
    await readers[0].cancel();
    controllers[0].abort();
    hold.resolve();
    await readers[1].cancel();
    await expect.poll(async () => (await subscribe()).status).toBe(200);
  });
});
