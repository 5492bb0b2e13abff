import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '../../support/graphqlClient.ts';
import { startFakeChatBackend, type FakeChatBackend } from '../../support/fakeChatBackend.ts';
import { CHAT_RESUME, CHAT_STREAM, readAll, runtimeOf, startChatHarness, take, u1, type ChatHarness } from './chatHarness.ts';

describe('the OpenAI-compatible inference backend (against a local server speaking the protocol)', () => {
  let backend: FakeChatBackend;
  let harness: ChatHarness;

  beforeAll(async () => {
    backend = await startFakeChatBackend();
    harness = await startChatHarness({ CHAT_BACKEND_URL: backend.url, CHAT_BACKEND_API_KEY: 'sk-test-key', CHAT_BACKEND_MODEL: 'deepseek-chat' });
    // A current period, so the raw `used` column is what the ledger charges (no roll-over in between).
    await harness.store.db.updateTable('quotas').set({ resets_at: '2999-01-01T00:00:00.000Z' }).where('user_id', '=', 'u1').execute();
  });

  afterAll(async () => {
    await harness?.dispose();
    await backend?.close();
  });

  const stream = (prompt: string, extra: Record<string, unknown> = {}) =>
    harness.subscribe(harness.servers.chat!, CHAT_STREAM, { input: { prompt, ...extra } });

  async function usedTokens() {
    return (await harness.store.db.selectFrom('quotas').select('used').where('user_id', '=', 'u1').executeTakeFirstOrThrow()).used;
  }

  it('streams the backend’s deltas and charges the backend’s own token counts', async () => {
    backend.behaviour = { kind: 'answer', tokens: ['Hello', ' from', ' the', ' backend', '.'], usage: { prompt_tokens: 11, completion_tokens: 5 } };
    const before = await usedTokens();
    const { chunks, errors } = await readAll(await stream('Say hello'));
    expect(errors).toEqual([]);
    expect(chunks.map((c) => c.delta)).toEqual(['Hello', ' from', ' the', ' backend', '.', '']);
    expect(chunks.at(-1)).toMatchObject({ index: 5, done: true, finishReason: 'stop', usage: { promptTokens: 11, completionTokens: 5, totalTokens: 16 } });
    expect(await usedTokens()).toBe(before + 16);

    const request = backend.requests.at(-1)!;
    expect(request.path).toBe('/v1/chat/completions');
    expect(request.headers.authorization).toBe('Bearer sk-test-key');
    expect(request.body).toMatchObject({
      model: 'deepseek-chat', stream: true, stream_options: { include_usage: true }, max_tokens: 512,
      messages: [{ role: 'user', content: 'Say hello' }],
    });
    const stored = await harness.store.db.selectFrom('messages').select('content').where('id', '=', chunks[0].messageId).executeTakeFirstOrThrow();
    expect(stored.content).toBe('Hello from the backend.');
  });

  it('sends the conversation as context', async () => {
    backend.behaviour = { kind: 'answer', tokens: ['First', ' answer.'] };
    const first = await readAll(await stream('first question'));
    backend.behaviour = { kind: 'answer', tokens: ['Second', ' answer.'] };
    await readAll(await stream('second question', { conversationId: first.chunks[0].conversationId }));
    expect(backend.requests.at(-1)!.body.messages).toEqual([
      { role: 'user', content: 'first question' },
      { role: 'assistant', content: 'First answer.' },
      { role: 'user', content: 'second question' },
    ]);
  });

  it('turns a 429 into RATE_LIMITED with the backend’s Retry-After, charging nothing', async () => {
    backend.behaviour = { kind: 'status', status: 429, headers: { 'retry-after': '7' } };
    const before = await usedTokens();
    const { chunks, errors, completed } = await readAll(await stream('too many'));
    expect(chunks).toEqual([]);
    expect(completed).toBe(true);
    expect(errors).toHaveLength(1);
    expect(errors[0].extensions).toMatchObject({ code: 'RATE_LIMITED', serviceName: 'chat-backend', retryAfterMs: 7_000, lastIndex: -1 });
    expect(JSON.stringify(errors)).not.toMatch(/127\.0\.0\.1|internal detail|stack/);
    expect(await usedTokens()).toBe(before);
  });

  it('turns a 5xx into DOWNSTREAM_SERVICE_ERROR', async () => {
    backend.behaviour = { kind: 'status', status: 503 };
    const { errors } = await readAll(await stream('are you there'));
    expect(errors[0].extensions).toMatchObject({ code: 'DOWNSTREAM_SERVICE_ERROR', serviceName: 'chat-backend', reason: 'http_5xx' });
    expect(JSON.stringify(errors)).not.toMatch(/127\.0\.0\.1|internal detail/);
  });

  it('reports a stream that breaks half-way after the chunks it got, and chatResume asks the backend to continue it', async () => {
    backend.behaviour = { kind: 'break', tokens: ['Half', ' of', ' it'] };
    const broken = await readAll(await stream('break please'));
    expect(broken.chunks.map((c) => [c.index, c.delta])).toEqual([[0, 'Half'], [1, ' of'], [2, ' it']]);
    expect(broken.errors).toHaveLength(1);
    const { messageId } = broken.chunks[0];
    expect(broken.errors[0].extensions).toMatchObject({ code: 'DOWNSTREAM_SERVICE_ERROR', reason: 'network', messageId, lastIndex: 2 });
    expect(await runtimeOf(harness.servers.chat!).leases.load(messageId)).toMatchObject({ state: 'interrupted', completion_tokens: 3 });

    backend.behaviour = { kind: 'answer', tokens: [' and', ' the', ' rest.'] };
    const resumed = await readAll(await harness.subscribe(harness.servers.chat!, CHAT_RESUME, { messageId, after: 2 }, u1));
    expect(resumed.errors).toEqual([]);
    expect(resumed.chunks.map((c) => [c.index, c.delta])).toEqual([[3, ' and'], [4, ' the'], [5, ' rest.'], [6, '']]);
    const messages = backend.requests.at(-1)!.body.messages as Array<{ role: string; content: string }>;
    expect(messages.slice(-3, -1)).toEqual([{ role: 'user', content: 'break please' }, { role: 'assistant', content: 'Half of it' }]);
    expect(messages.at(-1)!.role).toBe('user');
    expect(messages.at(-1)!.content).toMatch(/continue/i);
    const stored = await harness.store.db.selectFrom('messages').select('content').where('id', '=', messageId).executeTakeFirstOrThrow();
    expect(stored.content).toBe('Half of it and the rest.');
  });

  it('aborts the backend request when nobody listens any more', async () => {
    backend.behaviour = { kind: 'endless', intervalMs: 10 };
    const abandoned = backend.abandoned;
    const subscription = await stream('never ending story');
    await take(subscription, 3);
    subscription.close();
    await waitFor(() => backend.abandoned === abandoned + 1, 5_000, 10);
    const written = backend.tokensWritten;
    await new Promise((r) => setTimeout(r, 100));
    expect(backend.tokensWritten).toBe(written);
  });
});
