import { bearer, postGraphQL, type GraphQLHttpResult } from './graphqlClient.ts';
import { subscribeResuming, type ResumableSseResult } from './resumableSse.ts';
import { sleep, startLoad, type LoadSample, type RunningLoad } from './steadyLoad.ts';

const QUERY = '{ me { id } articles(first: 3) { edges { node { id title price } } } }';
const PLACE_ORDER = 'mutation($input: PlaceOrderInput!) { placeOrder(input: $input) { id } }';
const CHAT_STREAM = 'subscription($input: ChatInput!) { chatStream(input: $input) { messageId index done } }';

/** One chat answer read to its end by a resuming client, and what it saw. */
export interface StreamOutcome extends ResumableSseResult {
  startedAt: number;
  endedAt: number;
  /** Chunks missing between the ones received (the indexes skipped), and chunks received twice. */
  lost: number;
  repeated: number;
  /** Completed, every chunk up to the `done` one, no error. */
  whole: boolean;
}

export interface MixedLoadResult {
  queries: LoadSample[];
  orders: LoadSample[];
  streams: StreamOutcome[];
}

export interface MixedLoad {
  queries: RunningLoad;
  orders: RunningLoad;
  /** Answers read to their end so far. */
  streams: StreamOutcome[];
  /** Idempotency keys of placeOrder calls that failed, to send again as a client would. */
  failedOrderKeys: string[];
  /** Lets what is in flight finish (streams to their end), then reports everything. */
  stop(): Promise<MixedLoadResult>;
}

export interface MixedLoadOptions {
  /** Where every request goes (the router, or the balancer in front of several). */
  url: string;
  apiKey: string;
  /** Tells this load's idempotency keys and prompts apart from others'. */
  run: string;
  /** The article every order takes one of; give it stock enough. */
  articleId: string;
}

/** placeOrder of one `articleId` under `idempotencyKey`. */
export function placeOrder(url: string, apiKey: string, idempotencyKey: string, articleId: string): Promise<GraphQLHttpResult> {
  return postGraphQL(url, { query: PLACE_ORDER, variables: { input: { idempotencyKey, lines: [{ articleId, quantity: 1 }] } } }, bearer(apiKey));
}

/**
 * A steady mixed load: 3 loops of queries and 2 of placeOrder (each call its own idempotency key),
 * paced so a 2-core machine keeps up, and 4 loops of chat answers (each with its own key), each read
 * to its end by a client that resumes with `Last-Event-ID` as the chat page does.
 */
export function startMixedLoad({ url, apiKey, run, articleId }: MixedLoadOptions): MixedLoad {
  const failedOrderKeys: string[] = [];
  const queries = startLoad({
    concurrency: 3,
    maxPerLoop: 100_000,
    send: async () => {
      await sleep(10);
      return postGraphQL(url, { query: QUERY }, bearer(apiKey));
    },
  });
  const orders = startLoad({
    concurrency: 2,
    maxPerLoop: 100_000,
    send: async (loop, n) => {
      await sleep(25);
      const key = `${run}-${loop}-${n}`;
      try {
        const result = await placeOrder(url, apiKey, key, articleId);
        if (result.status !== 200 || result.body.errors?.length) failedOrderKeys.push(key);
        return result;
      } catch (error) {
        failedOrderKeys.push(key);
        throw error;
      }
    },
  });
  const streams: StreamOutcome[] = [];
  let stopped = false;
  const streamLoops = Array.from({ length: 4 }, async (_, loop) => {
    for (let n = 0; !stopped && n < 10_000; n++) {
      const startedAt = Date.now();
      const input = { prompt: `Stream ${run} ${loop}-${n}: tell me about load balancers`, idempotencyKey: `${run}-chat-${loop}-${n}` };
      const result = await subscribeResuming(url, { query: CHAT_STREAM, variables: { input } }, { headers: bearer(apiKey), maxReconnects: 20 });
      streams.push(judgeStream(result, startedAt));
    }
  });
  return {
    queries,
    orders,
    streams,
    failedOrderKeys,
    async stop() {
      stopped = true;
      const [q, o] = await Promise.all([queries.stop(), orders.stop(), Promise.all(streamLoops)]);
      return { queries: q.samples, orders: o.samples, streams };
    },
  };
}

/** What a resuming client saw of one answer: chunks lost (indexes skipped) and repeated, and whether it is whole. */
export function judgeStream(result: ResumableSseResult, startedAt: number): StreamOutcome {
  let expected = 0;
  let lost = 0;
  let repeated = 0;
  let done = false;
  for (const event of result.events) {
    const chunk = event.payload.data?.chatStream as { index: number; done: boolean } | undefined;
    if (!chunk) continue;
    if (chunk.index < expected) repeated++;
    else {
      lost += chunk.index - expected;
      expected = chunk.index + 1;
      done ||= chunk.done;
    }
  }
  const errors = result.events.flatMap((e) => e.payload.errors ?? []);
  return { ...result, startedAt, endedAt: Date.now(), lost, repeated, whole: result.completed && done && errors.length === 0 };
}
