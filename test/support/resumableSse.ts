import { createParser } from 'eventsource-parser';

/** One `next` event as a resuming client saw it: its SSE id and its payload. */
export interface ResumedEvent {
  id?: string;
  payload: { data?: Record<string, any> | null; errors?: Array<{ message: string; extensions?: Record<string, any> }> };
  /** Which connection (0 = the first) delivered it. */
  connection: number;
}

export interface ResumableSseResult {
  events: ResumedEvent[];
  /** True once the server sent `complete`. */
  completed: boolean;
  /** Connections opened after the first, each with `Last-Event-ID`. */
  reconnects: number;
  /** Why each earlier connection ended: `ended` (closed cleanly without `complete`), a thrown error, or an HTTP status. */
  endings: string[];
}

export interface ResumableSseOptions {
  headers?: Record<string, string>;
  /** Reconnections allowed in all. @default 10 */
  maxReconnects?: number;
  /** Pause before each reconnection. @default 100 */
  retryDelayMs?: number;
  /** Called with each event as it arrives. */
  onEvent?(event: ResumedEvent): void;
  signal?: AbortSignal;
}

/**
 * A GraphQL subscription over SSE read as graphql-sse's client and the chat page read it: a stream
 * that ends without `complete` (a router draining, a router killed, a reset) is asked for again, the
 * same request with `Last-Event-ID` set to the last id received, until `complete` arrives. Every event
 * is kept as received, repeats included, so a test can tell what was lost or repeated.
 */
export async function subscribeResuming(url: string, request: unknown, options: ResumableSseOptions = {}): Promise<ResumableSseResult> {
  const { maxReconnects = 10, retryDelayMs = 100 } = options;
  const result: ResumableSseResult = { events: [], completed: false, reconnects: 0, endings: [] };
  let lastEventId: string | undefined;
  for (let connection = 0; ; connection++) {
    let ending = 'ended';
    try {
      const response = await fetch(url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          accept: 'text/event-stream',
          ...options.headers,
          ...(lastEventId ? { 'last-event-id': lastEventId } : {}),
        },
        body: JSON.stringify(request),
        signal: options.signal,
      });
      if (!response.ok || !response.headers.get('content-type')?.startsWith('text/event-stream')) {
        ending = `HTTP ${response.status}: ${(await response.text()).slice(0, 200)}`;
      } else {
        const pending: Array<{ event?: string; id?: string; data: string }> = [];
        const parser = createParser({ onEvent: (e) => pending.push(e) });
        const decoder = new TextDecoder();
        for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
          parser.feed(decoder.decode(chunk, { stream: true }));
          for (const e of pending.splice(0)) {
            if (e.event === 'complete') result.completed = true;
            if (e.event !== 'next') continue;
            const event: ResumedEvent = { id: e.id, payload: JSON.parse(e.data), connection };
            if (e.id) lastEventId = e.id;
            result.events.push(event);
            options.onEvent?.(event);
          }
          if (result.completed) break;
        }
      }
    } catch (error) {
      if (options.signal?.aborted) throw error;
      const cause = (error as { cause?: { code?: string; message?: string } }).cause;
      ending = `${String(error)}${cause ? ` (${cause.code ?? cause.message})` : ''}`;
    }
    if (result.completed) return result;
    result.endings.push(ending);
    if (result.reconnects >= maxReconnects) return result;
    result.reconnects++;
    await new Promise((resolve) => setTimeout(resolve, retryDelayMs));
  }
}
