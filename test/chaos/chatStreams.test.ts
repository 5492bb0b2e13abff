import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readGatewayMetrics, sampleSum } from '../support/gatewayMetrics.ts';
import { readGatewayState } from '../support/gatewayState.ts';
import { bearer, waitFor } from '../support/graphqlClient.ts';
import { postSse } from '../support/sseClient.ts';
import { DEMO_KEY, startTestStack, type TestStack } from '../support/testStack.ts';

// Many streams at once, and a chat replica SIGKILLed under them: every answer arrives whole, each
// chunk once and in order, through router → gateway → chat replicas.
let stack: TestStack;

beforeAll(async () => {
  stack = await startTestStack({
    env: {
      CHAT_TOKEN_INTERVAL_MS: '10',
      CHAT_LEASE_MS: '600',
      // One demo key stands in for 200 clients here: the per-caller stream limit (32) is policy, not capacity.
      MAX_STREAMS_PER_CALLER: '1000',
    },
  });
  // 200 answers at once hold most of the demo user's allowance until each settles (quota is reserved
  // before an answer and settled after its last chunk): this file is not about quota, so lift it.
  const store = await stack.database.open();
  try {
    await store.db.updateTable('quotas').set({ limit: 1_000_000_000, used: 0 }).where('user_id', '=', 'u1').execute();
  } finally {
    await store.close();
  }
}, 120_000);
afterAll(async () => {
  await stack?.dispose();
});

interface Chunk {
  messageId: string;
  index: number;
  done: boolean;
}

/** One streamed answer over SSE (with an idempotency key when given); `onChunk` sees each chunk as it arrives. */
async function answer(prompt: string, onChunk?: (chunk: Chunk) => void, idempotencyKey?: string): Promise<{ chunks: Chunk[]; errors: unknown[] }> {
  const chunks: Chunk[] = [];
  const errors: unknown[] = [];
  const request = {
    query: 'subscription($input: ChatInput!) { chatStream(input: $input) { messageId index done } }',
    variables: { input: { prompt, ...(idempotencyKey ? { idempotencyKey } : {}) } },
  };
  for await (const event of postSse(stack.routerUrl, request, bearer(DEMO_KEY))) {
    const payload = JSON.parse(event.data);
    errors.push(...(payload.errors ?? []));
    if (payload.data?.chatStream) {
      chunks.push(payload.data.chatStream);
      onChunk?.(payload.data.chatStream);
    }
  }
  return { chunks, errors };
}

/** Waits until both chat replicas are healthy and not ejected in the commerce gateway's pool. */
async function chatReplicasInPool(): Promise<void> {
  await waitFor(async () => (await readGatewayState(stack, 'commerce')).subgraphs.chat.replicas.every((r) => r.healthy && !r.ejected), 15_000);
}

/** The chat replica (`chat-0`, `chat-1`) holding each answer's lease now, by the pid in its lease owner. */
async function writersOf(messageIds: string[]): Promise<Map<string, string | undefined>> {
  const store = await stack.database.open();
  try {
    const rows = await store.db.selectFrom('chat_generations').select(['message_id', 'lease_owner']).where('message_id', 'in', messageIds).execute();
    const byPid = new Map(stack.components.filter((c) => c.name.startsWith('chat-')).map((c) => [String(c.pid), c.name]));
    return new Map(rows.map((r) => [r.message_id, r.lease_owner ? byPid.get(r.lease_owner.split(':').at(-2)!) : undefined]));
  } finally {
    await store.close();
  }
}

/** Answers a chat replica continued after nobody was writing them, from its log. */
function takenOverBy(replica: string): Set<string> {
  const lines = readFileSync(join(stack.dir, 'logs', `${replica}.log`), 'utf8').split('\n');
  return new Set(lines.filter((l) => l.includes('continuing an answer nobody was writing')).map((l) => JSON.parse(l).messageId as string));
}

function expectWhole({ chunks, errors }: { chunks: Chunk[]; errors: unknown[] }, what: string) {
  expect(errors, `${what}: ${JSON.stringify(errors).slice(0, 600)}`).toEqual([]);
  expect(chunks.map((c) => c.index), what).toEqual(chunks.map((_, i) => i));
  expect(chunks.at(-1)?.done, what).toBe(true);
  expect(chunks.filter((c) => c.done), what).toHaveLength(1);
}

describe('chat streams under load and faults', () => {
  it('delivers 200 concurrent streams, each complete and in order', async () => {
    // On a loaded machine a replica's first health probes may time out while the stack starts: the
    // burst is for two chat replicas in the commerce gateway's pool (in two CI runs all 200 failed
    // without a chunk; the errors now print).
    await chatReplicasInPool();
    const started = performance.now();
    const results = await Promise.all(Array.from({ length: 200 }, (_, i) => answer(`Concurrent question ${i}: what is a stream?`)));
    console.info(`(streams) 200 answers, ${results.reduce((n, r) => n + r.chunks.length, 0)} chunks in ${(performance.now() - started).toFixed(0)} ms`);
    results.forEach((result, i) => expectWhole(result, `stream ${i}`));
    expect(new Set(results.map((r) => r.chunks[0].messageId)).size).toBe(200);
  }, 120_000);

  it('loses and repeats no chunk of 20 streams when the chat replica writing them is killed, and the twin takes them over', async () => {
    // After the 200-stream burst, both chat replicas back in the commerce gateway's pool first: the
    // kill below must find the twin there to resume on.
    await chatReplicasInPool();
    let progressed = 0;
    const firstChunks: Chunk[] = [];
    let fault: Promise<{ victim: string; theirs: string[] }> | undefined;
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        answer(`Question ${i} asked just before a crash: explain failover in detail`, (chunk) => {
          if (chunk.index === 0) firstChunks.push(chunk);
          // Once every stream is under way, SIGKILL the replica writing the first of them.
          if (chunk.index === 3 && ++progressed === 20) {
            fault = (async () => {
              const writers = await writersOf(firstChunks.map((c) => c.messageId));
              const victim = writers.get(firstChunks[0].messageId)!;
              await stack.kill(victim);
              return { victim, theirs: [...writers].filter(([, writer]) => writer === victim).map(([id]) => id) };
            })();
          }
        }),
      ),
    );
    expect(fault, `the replica was killed mid-stream (first errors: ${JSON.stringify(results.flatMap((r) => r.errors).slice(0, 2))})`).toBeDefined();
    const { victim, theirs } = await fault!;
    expect(victim).toMatch(/^chat-[01]$/);
    results.forEach((result, i) => expectWhole(result, `stream ${i}`));
    // The fault hit what it meant to: the killed replica was writing answers, and its twin took every
    // one of them over (none was done when it died: each had 3 of about 100 chunks).
    expect(theirs.length).toBeGreaterThan(0);
    const twin = victim === 'chat-0' ? 'chat-1' : 'chat-0';
    const taken = takenOverBy(twin);
    expect(theirs.filter((id) => !taken.has(id))).toEqual([]);
    await stack.restart(victim);
  }, 60_000);

  it('starts each of 50 answers of one user once while a chat replica is killed as they open', async () => {
    await chatReplicasInPool();
    const retriesBefore = sampleSum(await readGatewayMetrics(stack, 'commerce'), 'upstream_retries_total', { upstream: 'chat' });
    const since = Date.now();
    const run = `run-${since}`;
    let opened = 0;
    let fault: Promise<string> | undefined;
    const firstChunks: Chunk[] = [];
    const results = await Promise.all(
      Array.from({ length: 50 }, (_, i) =>
        answer(
          `Opening ${i} of 50: what happens to a turn whose replica dies?`,
          (chunk) => {
            if (chunk.index !== 0) return;
            firstChunks.push(chunk);
            // A few answers are under way and most openings are still in flight (one user's turns
            // start one after another): kill the replica writing one of them (the earliest still
            // being written: on a slow machine the first may have ended, its lease let go).
            if (++opened === 5) {
              fault = (async () => {
                const ids = firstChunks.map((c) => c.messageId);
                const writers = await writersOf(ids);
                const victim = ids.map((id) => writers.get(id)).find((w) => w !== undefined);
                if (!victim) throw new Error(`no chat replica holds the lease of any of ${ids.length} answers under way`);
                await stack.kill(victim);
                return victim;
              })();
            }
          },
          `${run}-${i}`,
        ),
      ),
    );
    expect(fault).toBeDefined();
    const victim = await fault!;
    results.forEach((result, i) => expectWhole(result, `stream ${i}`));
    expect(new Set(results.map((r) => r.chunks[0].messageId)).size).toBe(50);
    // Each key started one turn, and the user has no answer beyond these 50 from the run.
    const store = await stack.database.open();
    try {
      const keys = await store.db.selectFrom('chat_turn_keys').select(['idempotency_key', 'message_id']).where('idempotency_key', 'like', `${run}-%`).execute();
      expect(keys).toHaveLength(50);
      const started = await store.db.selectFrom('chat_generations').select('message_id').where('user_id', '=', 'u1').where('started_at', '>=', since).execute();
      expect(started.map((g) => g.message_id).sort()).toEqual(keys.map((k) => k.message_id).sort());
    } finally {
      await store.close();
    }
    // The kill hit openings or answers in flight: the gateway sent openings meant for the victim to the
    // twin (counted as retries), or the twin continued answers the victim was writing (a broken stream
    // resumed on the twin at its first try is no retry; on a loaded machine every opening may already
    // have been accepted when the kill lands).
    const retriesAfter = sampleSum(await readGatewayMetrics(stack, 'commerce'), 'upstream_retries_total', { upstream: 'chat' });
    const twin = victim === 'chat-0' ? 'chat-1' : 'chat-0';
    const ours = new Set(results.map((r) => r.chunks[0].messageId));
    const continued = [...takenOverBy(twin)].filter((id) => ours.has(id));
    console.info(`(openings) ${victim} killed: ${retriesAfter - retriesBefore} openings retried on ${twin}, ${continued.length} answers continued there`);
    expect(retriesAfter - retriesBefore + continued.length, `the kill of ${victim} sent nothing to its twin`).toBeGreaterThan(0);
    await stack.restart(victim);
  }, 90_000);
});
