import { createParser } from 'eventsource-parser';

/** One SSE event as a client sees it on the wire. */
export interface SseEvent {
  event: string;
  id?: string;
  data: string;
}

/**
 * POSTs a GraphQL request asking for `text/event-stream` and yields its raw events (ids included,
 * which the stock clients do not expose), until the stream completes or `signal` aborts it.
 */
export async function* postSse(url: string, body: unknown, headers: Record<string, string> = {}, signal?: AbortSignal): AsyncGenerator<SseEvent> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'text/event-stream', ...headers },
    body: JSON.stringify(body),
    signal,
  });
  if (!response.body) throw new Error(`no body (${response.status})`);
  const pending: SseEvent[] = [];
  const parser = createParser({ onEvent: (e) => pending.push({ event: e.event ?? 'message', id: e.id, data: e.data }) });
  const decoder = new TextDecoder();
  for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
    parser.feed(decoder.decode(chunk, { stream: true }));
    while (pending.length) {
      const event = pending.shift()!;
      if (event.event === 'complete') return;
      yield event;
    }
  }
}
