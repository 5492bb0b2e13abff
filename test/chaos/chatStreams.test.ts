import { afterAll, beforeAll, describe, expect, it } from 'vitest';
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
      MAX_STREAMS_PER_CALLER: '1000',
      // Opening a stream starts the turn (quota, context, cache) before its first byte: 200 at once
      // queue on the store's one writer, and on a CI machine running two stacks the last of them took
      // over the 4 s subgraph deadline. This file is about completeness and order, not deadlines.
      SUBGRAPH_TIMEOUT_MS: '10000',
      GATEWAY_TIMEOUT_MS: '25000',
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

/** One streamed answer over SSE; `onChunk` sees each chunk as it arrives. */
async function answer(prompt: string, onChunk?: (chunk: Chunk) => void): Promise<{ chunks: Chunk[]; errors: unknown[] }> {
  const chunks: Chunk[] = [];
  const errors: unknown[] = [];
  const request = { query: 'subscription($p: String!) { chatStream(input: { prompt: $p }) { messageId index done } }', variables: { p: prompt } };
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

function expectWhole({ chunks, errors }: { chunks: Chunk[]; errors: unknown[] }, what: string) {
  expect(errors, what).toEqual([]);
  expect(chunks.map((c) => c.index), what).toEqual(chunks.map((_, i) => i));
  expect(chunks.at(-1)?.done, what).toBe(true);
  expect(chunks.filter((c) => c.done), what).toHaveLength(1);
}

describe('chat streams under load and faults', () => {
  it('delivers 200 concurrent streams, each complete and in order', async () => {
    const started = performance.now();
    const results = await Promise.all(Array.from({ length: 200 }, (_, i) => answer(`Concurrent question ${i}: what is a stream?`)));
    console.info(`(streams) 200 answers, ${results.reduce((n, r) => n + r.chunks.length, 0)} chunks in ${(performance.now() - started).toFixed(0)} ms`);
    results.forEach((result, i) => expectWhole(result, `stream ${i}`));
    expect(new Set(results.map((r) => r.chunks[0].messageId)).size).toBe(200);
  }, 120_000);

  it('loses and repeats no chunk of 20 streams when the chat replica writing them is killed', async () => {
    // After the 200-stream burst, both chat replicas back in the commerce gateway's pool first: the
    // kill below must find the twin there to resume on.
    await waitFor(async () => (await readGatewayState(stack, 'commerce')).subgraphs.chat.replicas.every((r) => r.healthy && !r.ejected), 15_000);
    let progressed = 0;
    let kill: Promise<void> | undefined;
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        answer(`Question ${i} asked just before a crash: explain failover in detail`, (chunk) => {
          // Once every stream is under way, SIGKILL the replica that serves the first of them.
          if (chunk.index === 3 && ++progressed === 20) kill = stack.kill('chat-0');
        }),
      ),
    );
    await kill;
    expect(kill, `the replica was killed mid-stream (first errors: ${JSON.stringify(results.flatMap((r) => r.errors).slice(0, 2))})`).toBeDefined();
    results.forEach((result, i) => expectWhole(result, `stream ${i}`));
    await stack.restart('chat-0');
  }, 60_000);
});
