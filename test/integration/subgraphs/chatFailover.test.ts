import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { setTimeout as delay } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRedisServer, type RedisServer } from '../../support/redisServer.ts';
import { waitFor } from '../../support/graphqlClient.ts';
import { SseSubscription } from '../../support/sseSubscription.ts';
import { CHAT_RESUME, CHAT_STREAM, generatorOf, readAll, runtimeOf, startChatHarness, take, u1, type ChatHarness, type Chunk } from './chatHarness.ts';
import { TEST_SECRET, asPrincipal } from './subgraphHarness.ts';

const TOKEN_INTERVAL_MS = 15;

/** Indexes 0..n exactly once and in order, ending with the only done chunk; returns the text. */
function expectWholeAnswer(chunks: Chunk[]): string {
  expect(chunks.map((c) => c.index)).toEqual(chunks.map((_, i) => i));
  expect(chunks.filter((c) => c.done)).toEqual([chunks.at(-1)]);
  return chunks.map((c) => c.delta).join('');
}

/** A chat replica in its own process, to be killed for real. */
async function spawnChatReplica(harness: ChatHarness, redisUrl?: string): Promise<{ url: string; child: ChildProcess }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'subgraphs/main.ts', 'chat'], {
    stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
    env: {
      ...process.env,
      PORT: '0',
      INTERNAL_SECRET: TEST_SECRET,
      ...harness.database.env,
      CHAT_TOKEN_INTERVAL_MS: String(TOKEN_INTERVAL_MS),
      CHAT_LEASE_MS: harness.config.chat.leaseMs.toString(),
      CHAT_FOLLOW_POLL_MS: harness.config.chat.followPollMs.toString(),
      LOG_LEVEL: 'warn',
      ...(redisUrl ? { REDIS_URL: redisUrl } : {}),
    },
  });
  const [message] = (await Promise.race([once(child, 'message'), once(child, 'exit').then(() => [undefined])])) as [{ port: number } | undefined];
  if (!message) throw new Error('the chat replica exited before it was ready');
  return { url: `http://127.0.0.1:${message.port}/graphql`, child };
}

describe.each(['store', 'redis'] as const)('a streamed answer survives its replica and its listeners (%s chunk log)', (kind) => {
  let redis: RedisServer | undefined;
  let harness: ChatHarness;

  beforeAll(async () => {
    if (kind === 'redis') redis = await startRedisServer();
    harness = await startChatHarness({ CHAT_TOKEN_INTERVAL_MS: String(TOKEN_INTERVAL_MS), ...(redis ? { REDIS_URL: redis.url } : {}) });
  });

  afterAll(async () => {
    await harness?.dispose();
    await redis?.stop();
  });

  /** The answer a replica writes for `prompt` uninterrupted, as the oracle for a resumed one. */
  async function uninterrupted(prompt: string): Promise<string> {
    const { chunks } = await readAll(await harness.subscribe(harness.servers.chat!, CHAT_STREAM, { input: { prompt, model: 'm-large' } }));
    return expectWholeAnswer(chunks);
  }

  it('continues on a second replica after the first is closed mid-stream, with no gap and no repeat', async () => {
    const first = await harness.startChat({ drainGraceMs: 30 });
    const takeovers = runtimeOf(harness.servers.chat!).stats.takeovers;
    const prompt = `Explain replicas in detail (${kind}, closed)`;
    const subscription = await harness.subscribe(first, CHAT_STREAM, { input: { prompt, model: 'm-large' } });
    const before = await take(subscription, 5);
    await first.close();
    const cut = await readAll(subscription);
    expect(cut.completed).toBe(false);
    const seen = [...before.chunks, ...cut.chunks];
    expect(seen.some((c) => c.done)).toBe(false);

    const { messageId } = seen[0];
    const resumed = await readAll(await harness.subscribe(harness.servers.chat!, CHAT_RESUME, { messageId, after: seen.at(-1)!.index }));
    expect(resumed.errors).toEqual([]);
    const text = expectWholeAnswer([...seen, ...resumed.chunks]);
    expect(text).toBe(await uninterrupted(prompt));
    expect(runtimeOf(harness.servers.chat!).stats.takeovers).toBe(takeovers + 1);
  });

  it('continues after its replica process is killed (SIGKILL), once the lease lapses', async () => {
    const replica = await spawnChatReplica(harness, redis?.url);
    try {
      const prompt = `Explain crashes in detail (${kind}, killed)`;
      const subscription = await SseSubscription.open(replica.url, { query: CHAT_STREAM, variables: { input: { prompt, model: 'm-large' } } }, asPrincipal(u1));
      const before = await take(subscription, 5);
      replica.child.kill('SIGKILL');
      const cut = await readAll(subscription);
      const seen = [...before.chunks, ...cut.chunks];
      expect(seen.some((c) => c.done)).toBe(false);

      const resumed = await readAll(await harness.subscribe(harness.servers.chat!, CHAT_RESUME, { messageId: seen[0].messageId, after: seen.at(-1)!.index }));
      expect(resumed.errors).toEqual([]);
      expect(expectWholeAnswer([...seen, ...resumed.chunks])).toBe(await uninterrupted(prompt));
    } finally {
      if (replica.child.exitCode === null && replica.child.signalCode === null) replica.child.kill('SIGKILL');
    }
  });

  it('stops the generator when its only client goes away, and chatResume picks the answer up later', async () => {
    const server = harness.servers.chat!;
    const generator = generatorOf(server);
    const subscription = await harness.subscribe(server, CHAT_STREAM, { input: { prompt: `Explain stopping (${kind})`, model: 'm-large' } });
    const before = await take(subscription, 3);
    const { messageId } = before.chunks[0];
    subscription.close();

    await waitFor(async () => (await runtimeOf(server).leases.load(messageId))?.state === 'interrupted', 5_000, 10);
    expect(runtimeOf(server).generations.ids()).not.toContain(messageId);
    const produced = generator.tokensProduced;
    const logged = (await runtimeOf(server).chunkLog.read(messageId, -1)).length;
    await delay(TOKEN_INTERVAL_MS * 20);
    expect(generator.tokensProduced).toBe(produced);
    expect((await runtimeOf(server).chunkLog.read(messageId, -1)).length).toBe(logged);
    expect(logged).toBeLessThan(20);

    const resumed = await readAll(await harness.subscribe(server, CHAT_RESUME, { messageId, after: 2 }));
    expectWholeAnswer([...before.chunks, ...resumed.chunks]);
    expect(generator.tokensProduced).toBeGreaterThan(produced);
  });

  it('keeps writing while another listener on the same replica follows the answer', async () => {
    const server = harness.servers.chat!;
    const takeovers = runtimeOf(server).stats.takeovers;
    const first = await harness.subscribe(server, CHAT_STREAM, { input: { prompt: `Explain sharing (${kind})`, model: 'm-large' } });
    const before = await take(first, 2);
    const { messageId } = before.chunks[0];
    const second = await harness.subscribe(server, CHAT_RESUME, { messageId, after: 1 });
    await take(second, 1);
    first.close();
    const rest = await readAll(second);
    expect(rest.errors).toEqual([]);
    expect(rest.chunks.at(-1)!.done).toBe(true);
    const row = await runtimeOf(server).leases.load(messageId);
    expect(row).toMatchObject({ state: 'done', charged_tokens: rest.chunks.at(-1)!.usage!.totalTokens });
    // Never stopped and picked up again: the same run wrote it to the end.
    expect(runtimeOf(server).stats.takeovers).toBe(takeovers);
  });

  it('keeps writing while a follower on another replica watches, without that replica generating', async () => {
    const writer = harness.servers.chat!;
    const watcher = await harness.startChat();
    const watcherProduced = generatorOf(watcher).tokensProduced;
    const first = await harness.subscribe(writer, CHAT_STREAM, { input: { prompt: `Explain watching (${kind})`, model: 'm-large' } });
    const before = await take(first, 2);
    const { messageId } = before.chunks[0];
    const second = await harness.subscribe(watcher, CHAT_RESUME, { messageId, after: -1 });
    await waitFor(async () => ((await runtimeOf(writer).leases.load(messageId))?.watched_until ?? 0) > 0, 5_000, 10);
    first.close();
    const all = await readAll(second);
    expect(all.errors).toEqual([]);
    expectWholeAnswer(all.chunks);
    expect(generatorOf(watcher).tokensProduced).toBe(watcherProduced);
    expect(runtimeOf(watcher).stats.takeovers).toBe(0);
  });
});
