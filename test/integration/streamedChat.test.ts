import { createHash } from 'node:crypto';
import { ApolloClient, ApolloLink, HttpLink, InMemoryCache, gql } from '@apollo/client';
import { GraphQLWsLink } from '@apollo/client/link/subscriptions';
import { Client as UrqlClient, fetchExchange, subscriptionExchange } from '@urql/core';
import { createClient as createSseClient } from 'graphql-sse';
import { createClient as createWsClient } from 'graphql-ws';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { bearer, postGraphQL } from '../support/graphqlClient.ts';
import { postSse } from '../support/sseClient.ts';
import { DEMO_KEY, startTestStack, type TestStack } from '../support/testStack.ts';

// Streamed chat end to end through npm start's router: stock graphql-ws and graphql-sse clients,
// SSE event ids and Last-Event-ID, chatResume, the prompt cache, quota and model rules, and a chat
// replica killed under load.
const FREE_KEY = 'test-free-key-0123456789';
let stack: TestStack;
const CHUNK = 'conversationId messageId index delta done cached finishReason model { id } usage { totalTokens }';

interface Chunk {
  conversationId: string;
  messageId: string;
  index: number;
  delta: string;
  done: boolean;
  cached: boolean;
  finishReason: string | null;
  model: { id: string };
  usage: { totalTokens: number } | null;
}

beforeAll(async () => {
  stack = await startTestStack({ env: { CHAT_TOKEN_INTERVAL_MS: '5', CHAT_LEASE_MS: '600', MAX_STREAMS_PER_CALLER: '500' } });
  // A key of a FREE-plan user, straight into the store the auth subgraph reads (only its hash is kept).
  const store = await stack.database.open();
  try {
    const hash = createHash('sha256').update(FREE_KEY).digest('hex');
    await store.db.insertInto('api_keys').values({
      id: 'key_free_test', key_hash: hash, prefix: FREE_KEY.slice(0, 8), label: 'free test', user_id: 'u3', scopes: '["chat"]', created_at: new Date().toISOString(),
    }).execute();
  } finally {
    await store.close();
  }
}, 120_000);
afterAll(async () => {
  await stack?.dispose();
});

/** Streams a prompt over SSE with raw events, so ids can be checked; stops early after `stopAfter` chunks. */
async function streamSse(prompt: string, headers: Record<string, string> = bearer(DEMO_KEY), stopAfter?: number, conversationId?: string) {
  const controller = new AbortController();
  const events: Array<{ id?: string; chunk?: Chunk; errors?: Array<{ extensions?: Record<string, unknown> }> }> = [];
  const request = { query: `subscription($input: ChatInput!) { chatStream(input: $input) { ${CHUNK} } }`, variables: { input: { prompt, conversationId } } };
  try {
    for await (const event of postSse(stack.routerUrl, request, headers, controller.signal)) {
      const payload = JSON.parse(event.data);
      events.push({ id: event.id, chunk: payload.data?.chatStream, errors: payload.errors });
      if (stopAfter !== undefined && events.length >= stopAfter) {
        controller.abort();
        break;
      }
    }
  } catch (error) {
    if (!controller.signal.aborted) throw error;
  }
  return events;
}

function expectWholeAnswer(chunks: Chunk[]) {
  expect(chunks.map((c) => c.index)).toEqual(chunks.map((_, i) => i));
  expect(chunks.filter((c) => c.done)).toHaveLength(1);
  expect(chunks.at(-1)).toMatchObject({ done: true, finishReason: expect.any(String), usage: { totalTokens: expect.any(Number) } });
  expect(new Set(chunks.map((c) => c.messageId)).size).toBe(1);
}

describe('streamed chat through the router', () => {
  it('streams a whole answer over SSE with stock graphql-sse, each event with id <messageId>:<index>', async () => {
    const client = createSseClient({ url: stack.routerUrl, headers: bearer(DEMO_KEY), retryAttempts: 0 });
    const chunks: Chunk[] = [];
    for await (const result of client.iterate<{ chatStream: Chunk }>({ query: `subscription { chatStream(input: { prompt: "Explain SSE briefly" }) { ${CHUNK} } }` })) {
      expect(result.errors).toBeUndefined();
      chunks.push(result.data!.chatStream);
    }
    client.dispose();
    expectWholeAnswer(chunks);

    const raw = await streamSse('Explain event ids briefly');
    expect(raw.every((e) => e.id === `${e.chunk!.messageId}:${e.chunk!.index}`)).toBe(true);
    expectWholeAnswer(raw.map((e) => e.chunk!));
  });

  it('streams a whole answer over WebSocket with stock graphql-ws, the key in connectionParams', async () => {
    const client = createWsClient({ url: stack.routerUrl.replace('http', 'ws'), webSocketImpl: WebSocket, connectionParams: { authorization: `Bearer ${DEMO_KEY}` }, retryAttempts: 0 });
    const chunks: Chunk[] = [];
    try {
      for await (const result of client.iterate<{ chatStream: Chunk }>({ query: `subscription { chatStream(input: { prompt: "Explain WebSockets briefly" }) { ${CHUNK} } }` })) {
        expect(result.errors).toBeUndefined();
        chunks.push(result.data!.chatStream);
      }
      // Queries work on the same socket, authenticated the same way.
      const me = await new Promise((resolve, reject) => {
        let value: unknown;
        client.subscribe({ query: '{ me { id } }' }, { next: (v) => (value = v), error: reject, complete: () => resolve(value) });
      });
      expect(me).toEqual({ data: { me: { id: 'u1' } } });
    } finally {
      await client.dispose();
    }
    expectWholeAnswer(chunks);
  });

  it('continues after Last-Event-ID when an SSE client reconnects, with no chunk lost or repeated', async () => {
    const first = await streamSse('Tell me about reconnecting streams', bearer(DEMO_KEY), 5);
    const last = first.at(-1)!;
    const rest = await streamSse('ignored: the answer is resumed', { ...bearer(DEMO_KEY), 'last-event-id': last.id! });
    const chunks = [...first, ...rest].map((e) => e.chunk!);
    expectWholeAnswer(chunks);
    expect(rest[0].chunk!.index).toBe(last.chunk!.index + 1);
  });

  it('replays an answer with chatResume after it ended', async () => {
    const answer = (await streamSse('What is a chunk log?')).map((e) => e.chunk!);
    const messageId = answer[0].messageId;
    const replay: Chunk[] = [];
    for await (const event of postSse(stack.routerUrl, { query: `subscription($m: ID!) { chatResume(messageId: $m, after: 2) { ${CHUNK} } }`, variables: { m: messageId } }, bearer(DEMO_KEY))) {
      replay.push(JSON.parse(event.data).data.chatResume);
    }
    expect(replay.map((c) => c.index)).toEqual(answer.slice(3).map((c) => c.index));
    expect(replay.map((c) => c.delta).join('')).toBe(answer.slice(3).map((c) => c.delta).join(''));
  });

  it('answers the same prompt from the prompt cache, streamed at once with cached: true', async () => {
    const prompt = `Cache me ${Date.now()}`;
    const fresh = (await streamSse(prompt)).map((e) => e.chunk!);
    const cached = (await streamSse(prompt)).map((e) => e.chunk!);
    expect(fresh.every((c) => !c.cached)).toBe(true);
    expect(cached.every((c) => c.cached)).toBe(true);
    expect(cached.map((c) => c.delta).join('')).toBe(fresh.map((c) => c.delta).join(''));
  });

  it('refuses a model the caller’s plan may not use with FORBIDDEN', async () => {
    const events = [];
    for await (const event of postSse(stack.routerUrl, { query: `subscription { chatStream(input: { prompt: "hi", model: "m-large" }) { ${CHUNK} } }` }, bearer(FREE_KEY))) {
      events.push(JSON.parse(event.data));
    }
    expect(events).toHaveLength(1);
    expect(events[0].errors[0].extensions).toMatchObject({ code: 'FORBIDDEN' });
  });

  it('ends the stream with QUOTA_EXCEEDED and resetsAt when the allowance runs out mid-conversation, and charges what was used', async () => {
    const quota = async () => (await postGraphQL(stack.routerUrl, { query: '{ me { quota { used remaining limit resetsAt } } }' }, bearer(FREE_KEY))).body.data!.me.quota;
    // Most of the FREE user's allowance already spent, in the ledger the quota subgraph reads.
    const store = await stack.database.open();
    try {
      const now = new Date();
      const nextMonth = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + 1, 1)).toISOString();
      await store.db.updateTable('quotas').set((eb) => ({ used: eb('limit', '-', 400), resets_at: nextMonth })).where('user_id', '=', 'u3').execute();
    } finally {
      await store.close();
    }
    const before = await quota();
    expect(before.remaining).toBe(400);
    let spent = 0;
    let conversationId: string | undefined;
    let refused: Record<string, unknown> | undefined;
    for (let turn = 0; turn < 20 && !refused; turn++) {
      const events = await streamSse(`Turn ${turn}: tell me more, at length, about quotas`, bearer(FREE_KEY), undefined, conversationId);
      const error = events.flatMap((e) => e.errors ?? [])[0];
      if (error) refused = error.extensions;
      else {
        spent += events.at(-1)!.chunk!.usage!.totalTokens;
        conversationId ??= events[0].chunk!.conversationId;
      }
    }
    expect(conversationId).toBeDefined();
    expect(refused).toMatchObject({ code: 'QUOTA_EXCEEDED', resetsAt: expect.any(String) });
    const after = await quota();
    expect(after.used - before.used).toBe(spent);
    expect(after.resetsAt).toBe(refused!.resetsAt);
  });
});

// The frontends' own libraries, configured as their documentation says, with nothing added for this router.
describe('stock client libraries through the router', () => {
  const CHAT = `subscription Chat($input: ChatInput!) { chatStream(input: $input) { ${CHUNK} } }`;
  const ws = () => createWsClient({ url: stack.routerUrl.replace('http', 'ws'), webSocketImpl: WebSocket, connectionParams: { authorization: `Bearer ${DEMO_KEY}` }, retryAttempts: 0 });

  it('Apollo Client: queries over HttpLink, chatStream over GraphQLWsLink (split on the operation type)', async () => {
    const wsClient = ws();
    const link = ApolloLink.split(
      ({ query }) => query.definitions.some((d) => d.kind === 'OperationDefinition' && d.operation === 'subscription'),
      new GraphQLWsLink(wsClient),
      new HttpLink({ uri: stack.routerUrl, headers: bearer(DEMO_KEY) }),
    );
    const client = new ApolloClient({ link, cache: new InMemoryCache() });
    try {
      const me = await client.query<{ me: { id: string } }>({ query: gql`query Me { me { id } }` });
      expect(me.data?.me.id).toBe('u1');
      const chunks = await new Promise<Chunk[]>((resolve, reject) => {
        const received: Chunk[] = [];
        client.subscribe<{ chatStream: Chunk }>({ query: gql(CHAT), variables: { input: { prompt: 'Apollo Client, briefly' } } }).subscribe({
          next: (result) => (result.error ? reject(result.error) : received.push(result.data!.chatStream)),
          error: reject,
          complete: () => resolve(received),
        });
      });
      expectWholeAnswer(chunks);
    } finally {
      client.stop();
      await wsClient.dispose();
    }
  });

  it('urql: fetchExchange for queries, subscriptionExchange over graphql-sse', async () => {
    const sse = createSseClient({ url: stack.routerUrl, headers: bearer(DEMO_KEY), retryAttempts: 0 });
    const client = new UrqlClient({
      url: stack.routerUrl,
      fetchOptions: { headers: bearer(DEMO_KEY) },
      exchanges: [
        subscriptionExchange({
          forwardSubscription: (request) => ({
            subscribe: (sink) => ({ unsubscribe: sse.subscribe({ ...request, query: request.query ?? '' }, sink) }),
          }),
        }),
        fetchExchange,
      ],
    });
    try {
      const me = await client.query('query Me { me { id } }', {}).toPromise();
      expect(me.error).toBeUndefined();
      expect(me.data.me.id).toBe('u1');
      const chunks = await new Promise<Chunk[]>((resolve, reject) => {
        const received: Chunk[] = [];
        const { unsubscribe } = client.subscription<{ chatStream: Chunk }>(CHAT, { input: { prompt: 'urql, briefly' } }).subscribe((result) => {
          if (result.error) return reject(result.error);
          received.push(result.data!.chatStream);
          if (result.data!.chatStream.done) {
            unsubscribe();
            resolve(received);
          }
        });
      });
      expectWholeAnswer(chunks);
    } finally {
      sse.dispose();
    }
  });
});
