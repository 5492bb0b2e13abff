import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CHAT_STREAM, generatorOf, readAll, startChatHarness, u3, type ChatHarness } from './chatHarness.ts';

const QUOTA = '{ _entities(representations: [{ __typename: "User", id: "u3" }]) { ... on User { quota { limit used remaining resetsAt } } } }';

describe('the token quota (chat charges the ledger that User.quota reads)', () => {
  let harness: ChatHarness;

  beforeAll(async () => {
    harness = await startChatHarness({}, ['quota']);
  });

  afterAll(async () => {
    await harness?.dispose();
  });

  async function quota() {
    const { body } = await harness.post('quota', QUOTA, undefined, u3);
    expect(body.errors).toBeUndefined();
    return body.data!._entities[0].quota as { limit: number; used: number; remaining: number; resetsAt: string };
  }

  async function leaveRemaining(tokens: number) {
    const { limit } = await quota();
    await harness.store.db.updateTable('quotas').set({ used: limit - tokens }).where('user_id', '=', 'u3').execute();
  }

  it('charges every answer its tokens and ends the conversation with QUOTA_EXCEEDED when they run out', async () => {
    await leaveRemaining(250);
    const start = await quota();
    let conversationId: string | undefined;
    const charged: number[] = [];
    let refusal: Awaited<ReturnType<typeof readAll>> | undefined;
    for (let turn = 0; turn < 20 && !refusal; turn++) {
      const produced = generatorOf(harness.servers.chat!).tokensProduced;
      const received = await readAll(
        await harness.subscribe(harness.servers.chat!, CHAT_STREAM, { input: { prompt: `Turn ${turn}: tell me more about quotas`, conversationId } }, u3),
      );
      if (received.errors.length) {
        refusal = received;
        // Checked before generating: nothing was written for the refused turn.
        expect(generatorOf(harness.servers.chat!).tokensProduced).toBe(produced);
        break;
      }
      conversationId = received.chunks[0].conversationId;
      charged.push(received.chunks.at(-1)!.usage!.totalTokens);
      expect((await quota()).used).toBe(start.used + charged.reduce((a, b) => a + b, 0));
    }
    expect(charged.length).toBeGreaterThanOrEqual(2);
    expect(refusal!.chunks).toEqual([]);
    expect(refusal!.errors).toHaveLength(1);
    const error = refusal!.errors[0];
    expect(error.path).toEqual(['chatStream']);
    expect(error.extensions).toMatchObject({ code: 'QUOTA_EXCEEDED', resetsAt: start.resetsAt, remaining: expect.any(Number), required: expect.any(Number) });
    expect(error.extensions!.remaining).toBeLessThan(error.extensions!.required);

    const end = await quota();
    expect(end.used).toBe(start.used + charged.reduce((a, b) => a + b, 0));
    expect(end.used).toBeLessThanOrEqual(end.limit);
    expect(end.remaining).toBe(end.limit - end.used);
  });

  it('holds tokens while an answer is written, so two answers at once cannot overspend', async () => {
    await leaveRemaining(120);
    const start = await quota();
    const [a, b] = await Promise.all([
      harness.subscribe(harness.servers.chat!, CHAT_STREAM, { input: { prompt: 'first of two at once' } }, u3).then(readAll),
      harness.subscribe(harness.servers.chat!, CHAT_STREAM, { input: { prompt: 'second of two at once' } }, u3).then(readAll),
    ]);
    const answered = [a, b].filter((r) => r.chunks.length);
    const refused = [a, b].filter((r) => r.errors.length);
    expect(answered).toHaveLength(1);
    expect(refused.map((r) => r.errors[0].extensions!.code)).toEqual(['QUOTA_EXCEEDED']);
    const end = await quota();
    expect(end.used).toBe(start.used + answered[0].chunks.at(-1)!.usage!.totalTokens);
    expect(end.used).toBeLessThanOrEqual(end.limit);
  });

  it('ends an answer short ("length") when the quota cannot pay for all of it', async () => {
    await leaveRemaining(20);
    const received = await readAll(await harness.subscribe(harness.servers.chat!, CHAT_STREAM, { input: { prompt: 'short one' } }, u3));
    expect(received.errors).toEqual([]);
    const last = received.chunks.at(-1)!;
    expect(last).toMatchObject({ done: true, finishReason: 'length' });
    expect(last.usage!.totalTokens).toBe(20);
    expect((await quota()).remaining).toBe(0);
  });

  it('charges the chat mutation like a stream', async () => {
    await leaveRemaining(1_000);
    const before = await quota();
    const { body } = await harness.post('chat', 'mutation { chat(input: { prompt: "a complete answer please" }) { message { id content } } }', undefined, u3);
    expect(body.errors).toBeUndefined();
    const usage = await harness.store.db.selectFrom('chat_usage').selectAll().where('message_id', '=', body.data!.chat.message.id).executeTakeFirstOrThrow();
    expect((await quota()).used).toBe(before.used + usage.prompt_tokens + usage.completion_tokens);
  });

  it('charges 150 answers of one user opened at once, none lost to a conflict on the quota row', async () => {
    // One hot row: on PostgreSQL these SERIALIZABLE transactions would all conflict at once and some
    // run out of retries; this process's charges for one user take turns (the quota lane).
    await harness.store.db.updateTable('quotas').set({ limit: 1_000_000, used: 0 }).where('user_id', '=', 'u3').execute();
    const answers = await Promise.all(
      Array.from({ length: 150 }, (_, i) => harness.subscribe(harness.servers.chat!, CHAT_STREAM, { input: { prompt: `one of many at once, number ${i}` } }, u3).then(readAll)),
    );
    expect(answers.flatMap((a) => a.errors)).toEqual([]);
    const spent = answers.reduce((sum, a) => sum + a.chunks.at(-1)!.usage!.totalTokens, 0);
    expect((await quota()).used).toBe(spent);
  });

  it('starts one turn per idempotency key: repeats, even at once, follow the first answer and pay nothing', async () => {
    await leaveRemaining(5_000);
    const before = await quota();
    const input = { prompt: 'the same turn, asked three times', idempotencyKey: `turn-${Date.now()}` };
    const produced = generatorOf(harness.servers.chat!).tokensProduced;
    const answers = await Promise.all(
      [0, 1, 2].map(() => harness.subscribe(harness.servers.chat!, CHAT_STREAM, { input }, u3).then(readAll)),
    );
    expect(answers.flatMap((a) => a.errors)).toEqual([]);
    const messageIds = new Set(answers.map((a) => a.chunks[0].messageId));
    expect(messageIds.size).toBe(1);
    // Every follower got the whole answer, in order, and it was written once.
    const texts = answers.map((a) => a.chunks.map((c) => c.delta).join(''));
    expect(new Set(texts).size).toBe(1);
    const usage = answers[0].chunks.at(-1)!.usage!;
    expect((await quota()).used).toBe(before.used + usage.totalTokens);
    expect(generatorOf(harness.servers.chat!).tokensProduced - produced).toBe(usage.completionTokens);
    // The chat mutation with that key again: the same message, nothing charged.
    const { body } = await harness.post('chat', 'mutation($input: ChatInput!) { chat(input: $input) { message { id } } }', { input }, u3);
    expect(body.data!.chat.message.id).toBe([...messageIds][0]);
    expect((await quota()).used).toBe(before.used + usage.totalTokens);
  });
});
