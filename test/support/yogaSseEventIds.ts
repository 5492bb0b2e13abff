import type { ExecutionResult } from 'graphql';
import type { Plugin } from 'graphql-yoga';

/** How often an idle stream sends a comment, so proxies and clients see it alive. @default 12000 (as yoga) */
const PING_INTERVAL_MS = 12_000;

/**
 * For the yoga servers the tests stand up as someone else's subgraphs (ours answer SSE through
 * lib/server/eventStreamAnswer.ts): GraphQL over SSE (graphql-sse's distinct connections mode, as yoga speaks it) with one addition:
 * a result carrying `extensions.eventId` is sent with that SSE `id`, so a client (or the next tier)
 * that reconnects with `Last-Event-ID` resumes after it. Yoga's own SSE processor writes no ids.
 */
export function useSseEventIds(): Plugin {
  return {
    onResultProcess({ request, result, setResultProcessor }) {
      const accept = request.headers.get('accept') ?? '';
      if (!accept.includes('text/event-stream')) return;
      const isStream = typeof result === 'object' && result !== null && Symbol.asyncIterator in result;
      if (!isStream && /application\/(graphql-response\+)?json/.test(accept)) return;
      setResultProcessor((processed, fetchAPI) => sseResponse(processed as ExecutionResult | AsyncIterable<ExecutionResult>, fetchAPI), 'text/event-stream');
    },
  };
}

function sseResponse(result: ExecutionResult | AsyncIterable<ExecutionResult>, fetchAPI: { Response: typeof Response; ReadableStream: typeof ReadableStream }): Response {
  const encoder = new TextEncoder();
  let iterator: AsyncIterator<ExecutionResult>;
  let ping: ReturnType<typeof setInterval> | undefined;
  const stream = new fetchAPI.ReadableStream<Uint8Array>({
    start(controller) {
      // A first comment flushes the headers: some clients wait for a byte before they report the open.
      controller.enqueue(encoder.encode(':\n\n'));
      ping = setInterval(() => {
        if (controller.desiredSize === null) clearInterval(ping);
        else if (controller.desiredSize > 0) controller.enqueue(encoder.encode(':\n\n'));
      }, PING_INTERVAL_MS);
      iterator = Symbol.asyncIterator in result ? result[Symbol.asyncIterator]() : once(result);
    },
    async pull(controller) {
      try {
        const step = await iterator.next();
        if (!step.done && step.value) controller.enqueue(encoder.encode(frame(step.value)));
        if (step.done) {
          controller.enqueue(encoder.encode('event: complete\ndata:\n\n'));
          clearInterval(ping);
          controller.close();
        }
      } catch (error) {
        clearInterval(ping);
        controller.error(error);
      }
    },
    async cancel() {
      clearInterval(ping);
      await iterator?.return?.();
    },
  });
  return new fetchAPI.Response(stream, {
    // A subscription refused before it started (a single result) keeps its errors' status, e.g. 429.
    status: Symbol.asyncIterator in result ? 200 : statusOf(result),
    headers: { 'content-type': 'text/event-stream', connection: 'keep-alive', 'cache-control': 'no-cache', 'content-encoding': 'none' },
  });
}

/** One `next` event; its `id` line when the result names its event. */
export function frame(result: ExecutionResult): string {
  const eventId = result.extensions?.eventId;
  const id = typeof eventId === 'string' && !/[\r\n]/.test(eventId) ? `id: ${eventId}\n` : '';
  return `event: next\n${id}data: ${JSON.stringify(withoutInternals(result))}\n\n`;
}

/** What yoga strips before sending: the HTTP hints riding on errors and extensions. */
function withoutInternals(result: ExecutionResult): ExecutionResult {
  const errors = result.errors?.map((error) => {
    const json = typeof (error as { toJSON?: unknown }).toJSON === 'function' ? error.toJSON() : error;
    const { http: _http, unexpected: _unexpected, ...extensions } = (json.extensions ?? {}) as Record<string, unknown>;
    return Object.keys(extensions).length ? { ...json, extensions } : { ...json, extensions: undefined };
  });
  const { http: _http, ...extensions } = (result.extensions ?? {}) as Record<string, unknown>;
  return {
    ...(errors ? { errors: errors as never } : {}),
    ...('data' in result ? { data: result.data } : {}),
    ...(Object.keys(extensions).length ? { extensions } : {}),
  };
}

function statusOf(result: ExecutionResult): number {
  let status = 200;
  for (const error of result.errors ?? []) {
    const wanted = (error.extensions?.http as { status?: number } | undefined)?.status;
    if (wanted && wanted > status) status = wanted;
  }
  return status;
}

async function* once(result: ExecutionResult): AsyncGenerator<ExecutionResult> {
  yield result;
}
