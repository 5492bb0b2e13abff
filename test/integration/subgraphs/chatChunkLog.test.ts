import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createScratchDatabase, type ScratchDatabase } from '../../../scripts/scratchDatabase.ts';
import type { Store } from '../../../subgraphs/store/openDatabase.ts';
import type { ChunkLog } from '../../../subgraphs/chat/chunkLog/chunkLog.ts';
import { RedisChunkLog } from '../../../subgraphs/chat/chunkLog/redisChunkLog.ts';
import { StoreChunkLog } from '../../../subgraphs/chat/chunkLog/storeChunkLog.ts';
import { waitFor } from '../../support/graphqlClient.ts';
import { startRedisServer, type RedisServer } from '../../support/redisServer.ts';
import { CHAT_RESUME, CHAT_STREAM, readAll, runtimeOf, startChatHarness, take, type ChatHarness } from './chatHarness.ts';

let redis: RedisServer;
let store: Store;
let database: ScratchDatabase;
let dir: string;
const clients: Redis[] = [];

beforeAll(async () => {
  redis = await startRedisServer();
  dir = mkdtempSync(join(tmpdir(), 'chunk-log-'));
  database = await createScratchDatabase(dir);
  store = await database.open();
});

afterAll(async () => {
  for (const client of clients) client.disconnect();
  await store?.close();
  await database?.drop();
  await redis?.stop();
  rmSync(dir, { recursive: true, force: true });
});

/** Two logs over one backing store: two replicas' views of the same chunks. */
function twoReplicas(kind: 'store' | 'redis'): [ChunkLog, ChunkLog] {
  if (kind === 'store') return [new StoreChunkLog(store.db), new StoreChunkLog(store.db)];
  const make = () => {
    const client = new Redis(redis.url);
    clients.push(client);
    return new RedisChunkLog(client, 60_000);
  };
  return [make(), make()];
}

describe.each(['store', 'redis'] as const)('the %s chunk log', (kind) => {
  it('takes each index once and in order, whoever writes it', async () => {
    const [a, b] = twoReplicas(kind);
    const id = `msg_log_${kind}`;
    expect(await a.append(id, { index: 0, delta: 'Hello', done: false })).toBe(true);
    expect(await b.append(id, { index: 0, delta: 'Other', done: false })).toBe(false); // a repeat
    expect(await b.append(id, { index: 2, delta: ' gap', done: false })).toBe(false); // a gap
    expect(await b.append(id, { index: 1, delta: ' there', done: false })).toBe(true);
    const racing = await Promise.all([
      a.append(id, { index: 2, delta: ' from a', done: false }),
      b.append(id, { index: 2, delta: ' from b', done: false }),
    ]);
    expect(racing.filter(Boolean)).toHaveLength(1);
    const usage = { promptTokens: 5, completionTokens: 3, totalTokens: 8 };
    expect(await a.append(id, { index: 3, delta: '', done: true, finishReason: 'stop', usage })).toBe(true);

    for (const log of [a, b]) {
      const all = await log.read(id, -1);
      expect(all.map((c) => c.index)).toEqual([0, 1, 2, 3]);
      expect(all[2].delta).toBe(racing[0] ? ' from a' : ' from b');
      expect(all[3]).toMatchObject({ done: true, finishReason: 'stop', usage });
      expect((await log.read(id, 1)).map((c) => c.index)).toEqual([2, 3]);
      expect(await log.read(id, 3)).toEqual([]);
    }
  });

  it('wakes a follower in the same process at once', async () => {
    const [a] = twoReplicas(kind);
    const id = `msg_wake_${kind}`;
    const started = Date.now();
    const waiting = a.waitForAppend(id, 5_000, new AbortController().signal);
    await a.append(id, { index: 0, delta: 'x', done: false });
    await waiting;
    expect(Date.now() - started).toBeLessThan(1_000);
  });
});

describe('the redis chunk log across replicas', () => {
  it('wakes a follower on another replica as soon as a chunk is appended, not at its next poll', async () => {
    const [writer, follower] = twoReplicas('redis');
    const id = 'msg_wake_elsewhere';
    // The first wait subscribes, and returns once Redis confirmed it (nothing was appended: the caller just reads again).
    const subscribing = Date.now();
    await follower.waitForAppend(id, 5_000, new AbortController().signal, true);
    expect(Date.now() - subscribing).toBeLessThan(1_000);
    expect(await follower.read(id, -1)).toEqual([]);
    for (let index = 0; index < 3; index++) {
      const started = Date.now();
      const waiting = follower.waitForAppend(id, 5_000, new AbortController().signal, true);
      await new Promise((r) => setImmediate(r)); // the subscription is active: the wait is in place after a tick
      await writer.append(id, { index, delta: `t${index}`, done: false });
      await waiting;
      expect(Date.now() - started).toBeLessThan(1_000);
      expect((await follower.read(id, index - 1)).map((c) => c.delta)).toEqual([`t${index}`]);
    }
    await follower.close();
  });

  it('misses no chunk appended while the follower was still subscribing', async () => {
    const [writer, follower] = twoReplicas('redis');
    for (let round = 0; round < 5; round++) {
      const id = `msg_wake_racing_${round}`;
      const started = Date.now();
      // The append races the SUBSCRIBE (a new replica's first one also opens the subscriber connection).
      const waiting = follower.waitForAppend(id, 5_000, new AbortController().signal, true);
      await writer.append(id, { index: 0, delta: 'raced', done: false });
      await waiting;
      expect(Date.now() - started).toBeLessThan(1_000);
      expect((await follower.read(id, -1)).map((c) => c.delta)).toEqual(['raced']);
    }
    await follower.close();
  });
});

describe('an answer whose logged chunks are lost', () => {
  let harness: ChatHarness;

  beforeAll(async () => {
    harness = await startChatHarness({ REDIS_URL: redis.url, CHAT_TOKEN_INTERVAL_MS: '15' });
  });

  afterAll(async () => {
    await harness?.dispose();
  });

  it('ends chatResume with STREAM_INTERRUPTED instead of inventing or skipping text', async () => {
    const server = harness.servers.chat!;
    const subscription = await harness.subscribe(server, CHAT_STREAM, { input: { prompt: 'Explain losing chunks', model: 'm-large' } });
    const before = await take(subscription, 3);
    subscription.close();
    const { messageId } = before.chunks[0];
    await waitFor(async () => (await runtimeOf(server).leases.load(messageId))?.state === 'interrupted', 5_000, 10);

    // Redis restarts empty: the answer's first chunks are gone.
    await redis.stop();
    await redis.start();
    await waitFor(async () => runtimeOf(server).chunkLog.read('probe', -1).then(() => true, () => false), 10_000, 50);

    const resumed = await readAll(await harness.subscribe(server, CHAT_RESUME, { messageId, after: 2 }));
    // Chunks this replica still remembers writing may come first; then the stream ends, never with a gap.
    expect(resumed.chunks.map((c) => c.index)).toEqual(resumed.chunks.map((_, i) => 3 + i));
    expect(resumed.chunks.some((c) => c.done)).toBe(false);
    expect(resumed.errors).toHaveLength(1);
    expect(resumed.errors[0].extensions).toMatchObject({ code: 'STREAM_INTERRUPTED', messageId, lastIndex: 2 + resumed.chunks.length });
    // Nobody holds it, so a later attempt says the same rather than hanging.
    expect(await runtimeOf(server).leases.load(messageId)).toMatchObject({ lease_owner: null });
  });
});
