import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRedisServer, type RedisServer } from '../../support/redisServer.ts';
import { CHAT_RESUME, CHAT_STREAM, generatorOf, readAll, startChatHarness, u1, u2, u3, type ChatHarness, type Chunk } from './chatHarness.ts';

const codes = (errors: Array<{ extensions?: Record<string, unknown> }>) => errors.map((e) => e.extensions?.code);

/** Indexes 0..n exactly once and in order, the last one (only) done. */
function expectWholeAnswer(chunks: Chunk[]): string {
  expect(chunks.map((c) => c.index)).toEqual(chunks.map((_, i) => i));
  expect(chunks.filter((c) => c.done)).toEqual([chunks.at(-1)]);
  expect(new Set(chunks.map((c) => c.messageId)).size).toBe(1);
  return chunks.map((c) => c.delta).join('');
}

describe.each(['store', 'redis'] as const)('chatStream and chatResume over SSE (%s chunk log)', (kind) => {
  let redis: RedisServer | undefined;
  let harness: ChatHarness;

  beforeAll(async () => {
    if (kind === 'redis') redis = await startRedisServer();
    harness = await startChatHarness(redis ? { REDIS_URL: redis.url } : {}, ['analytics']);
  });

  afterAll(async () => {
    await harness?.dispose();
    await redis?.stop();
  });

  it('streams a whole answer token by token and stores it', async () => {
    const subscription = await harness.subscribe(harness.servers.chat!, CHAT_STREAM, { input: { prompt: `Tell me about streams (${kind})` } });
    const { chunks, errors, completed } = await readAll(subscription);
    expect(errors).toEqual([]);
    expect(completed).toBe(true);
    expect(chunks.length).toBeGreaterThan(5);
    const text = expectWholeAnswer(chunks);
    const last = chunks.at(-1)!;
    expect(last).toMatchObject({ done: true, finishReason: 'stop', cached: false, model: { id: 'm-medium' } });
    expect(last.usage!.completionTokens).toBe(chunks.length - 1);
    expect(last.usage!.totalTokens).toBe(last.usage!.promptTokens + last.usage!.completionTokens);
    expect(chunks.slice(0, -1).every((c) => c.delta.length > 0 && c.usage === null)).toBe(true);

    const stored = await harness.post('chat', 'query ($id: ID!) { conversation(id: $id) { messages { id role content model { id } } } }', { id: last.conversationId }, u1);
    expect(stored.body.data!.conversation.messages).toEqual([
      { id: expect.any(String), role: 'USER', content: `Tell me about streams (${kind})`, model: null },
      { id: last.messageId, role: 'ASSISTANT', content: text, model: { id: 'm-medium' } },
    ]);
  });

  it('answers the same prompt in the same context from the prompt cache, at once and without the generator', async () => {
    const prompt = `What is a prompt cache? (${kind})`;
    const first = await readAll(await harness.subscribe(harness.servers.chat!, CHAT_STREAM, { input: { prompt, model: 'm-small' } }));
    const produced = generatorOf(harness.servers.chat!).tokensProduced;
    const second = await readAll(await harness.subscribe(harness.servers.chat!, CHAT_STREAM, { input: { prompt, model: 'm-small' } }));
    expect(first.chunks.every((c) => !c.cached)).toBe(true);
    expect(second.chunks.every((c) => c.cached)).toBe(true);
    expect(expectWholeAnswer(second.chunks)).toBe(expectWholeAnswer(first.chunks));
    expect(second.chunks[0].conversationId).not.toBe(first.chunks[0].conversationId);
    expect(generatorOf(harness.servers.chat!).tokensProduced).toBe(produced);
    expect(second.chunks.at(-1)!.usage).toEqual(first.chunks.at(-1)!.usage);

    // Another model, or the same words inside a conversation, is another request.
    const other = await readAll(await harness.subscribe(harness.servers.chat!, CHAT_STREAM, { input: { prompt, model: 'm-medium' } }));
    expect(other.chunks.every((c) => !c.cached)).toBe(true);
    const inContext = await readAll(
      await harness.subscribe(harness.servers.chat!, CHAT_STREAM, { input: { prompt, model: 'm-small', conversationId: first.chunks[0].conversationId } }),
    );
    expect(inContext.chunks.every((c) => !c.cached)).toBe(true);
  });

  it('continues a conversation with its earlier messages as context', async () => {
    const first = await readAll(await harness.subscribe(harness.servers.chat!, CHAT_STREAM, { input: { prompt: `first turn (${kind})` } }));
    const conversationId = first.chunks[0].conversationId;
    const second = await readAll(await harness.subscribe(harness.servers.chat!, CHAT_STREAM, { input: { prompt: 'second turn', conversationId } }));
    expectWholeAnswer(second.chunks);
    expect(second.chunks[0].conversationId).toBe(conversationId);
    // The second prompt carries the whole first turn.
    expect(second.chunks.at(-1)!.usage!.promptTokens).toBeGreaterThan(first.chunks.at(-1)!.usage!.totalTokens);

    const foreign = await readAll(await harness.subscribe(harness.servers.chat!, CHAT_STREAM, { input: { prompt: 'hi', conversationId } }, u2));
    expect(codes(foreign.errors)).toEqual(['NOT_FOUND']);
  });

  it('replays a finished answer with chatResume after any index', async () => {
    const original = await readAll(await harness.subscribe(harness.servers.chat!, CHAT_STREAM, { input: { prompt: `replay me (${kind})` } }));
    const { messageId } = original.chunks[0];
    const all = await readAll(await harness.subscribe(harness.servers.chat!, CHAT_RESUME, { messageId, after: -1 }));
    expect(all.chunks).toEqual(original.chunks);
    const tail = await readAll(await harness.subscribe(harness.servers.chat!, CHAT_RESUME, { messageId, after: 2 }));
    expect(tail.chunks).toEqual(original.chunks.slice(3));
    const nothing = await readAll(await harness.subscribe(harness.servers.chat!, CHAT_RESUME, { messageId, after: original.chunks.length - 1 }));
    expect(nothing).toEqual({ chunks: [], errors: [], completed: true });

    const foreign = await readAll(await harness.subscribe(harness.servers.chat!, CHAT_RESUME, { messageId, after: -1 }, u2));
    expect(codes(foreign.errors)).toEqual(['NOT_FOUND']);
    const unknown = await readAll(await harness.subscribe(harness.servers.chat!, CHAT_RESUME, { messageId: 'msg_nope', after: -1 }));
    expect(codes(unknown.errors)).toEqual(['NOT_FOUND']);
    const bad = await readAll(await harness.subscribe(harness.servers.chat!, CHAT_RESUME, { messageId, after: -2 }));
    expect(codes(bad.errors)).toEqual(['BAD_USER_INPUT']);
  });

  it('refuses a model the plan may not use, an unknown model and anonymous callers', async () => {
    const forbidden = await readAll(await harness.subscribe(harness.servers.chat!, CHAT_STREAM, { input: { prompt: 'hi', model: 'm-large' } }, u3));
    expect(forbidden.chunks).toEqual([]);
    expect(codes(forbidden.errors)).toEqual(['FORBIDDEN']);
    expect(forbidden.errors[0].path).toEqual(['chatStream']);
    const unknown = await readAll(await harness.subscribe(harness.servers.chat!, CHAT_STREAM, { input: { prompt: 'hi', model: 'm-huge' } }, u3));
    expect(codes(unknown.errors)).toEqual(['BAD_USER_INPUT']);
    const anonymous = await readAll(await harness.subscribe(harness.servers.chat!, CHAT_STREAM, { input: { prompt: 'hi' } }, { scopes: [] }));
    expect(codes(anonymous.errors)).toEqual(['UNAUTHENTICATED']);
    // Without a model, a FREE caller gets one its plan allows.
    const chosen = await readAll(await harness.subscribe(harness.servers.chat!, CHAT_STREAM, { input: { prompt: `hi (${kind})` } }, u3));
    expect(chosen.chunks.at(-1)).toMatchObject({ done: true, model: { id: 'm-small' } });
  });

  it('records every answer for myChatUsage in analytics', async () => {
    const query = '{ myChatUsage { messages promptTokens completionTokens cachedAnswers averageLatencyMs } }';
    const before = (await harness.post('analytics', query, undefined, u2)).body.data!.myChatUsage;
    const prompt = `count my usage (${kind})`;
    const answers = [
      await readAll(await harness.subscribe(harness.servers.chat!, CHAT_STREAM, { input: { prompt } }, u2)),
      await readAll(await harness.subscribe(harness.servers.chat!, CHAT_STREAM, { input: { prompt } }, u2)),
    ];
    const after = (await harness.post('analytics', query, undefined, u2)).body.data!.myChatUsage;
    const usages = answers.map((a) => a.chunks.at(-1)!.usage!);
    expect(after.messages - before.messages).toBe(2);
    expect(after.cachedAnswers - before.cachedAnswers).toBe(1);
    expect(after.promptTokens - before.promptTokens).toBe(usages[0].promptTokens + usages[1].promptTokens);
    expect(after.completionTokens - before.completionTokens).toBe(usages[0].completionTokens + usages[1].completionTokens);
    expect(after.averageLatencyMs).toEqual(expect.any(Number));
    const anonymous = await harness.post('analytics', query);
    expect(codes(anonymous.body.errors!)).toEqual(['UNAUTHENTICATED']);
  });
});
