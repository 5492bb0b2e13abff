/** A GraphQL result as one SSE `next` event carries it. */
export interface SubscriptionResult {
  data?: Record<string, any> | null;
  errors?: Array<{ message: string; path?: Array<string | number>; extensions?: Record<string, any> }>;
}

/**
 * A GraphQL subscription over SSE (graphql-sse "distinct connections" mode: a POST with
 * `accept: text/event-stream`), read with fetch and a plain line parser, the way a gateway or a
 * browser would. Independent of the server's code on purpose.
 */
export class SseSubscription {
  /** True once the server sent `event: complete`. */
  completed = false;
  private buffer = '';
  private readonly decoder = new TextDecoder();
  private ended = false;

  private constructor(
    readonly response: Response,
    private readonly reader: ReadableStreamDefaultReader<Uint8Array>,
    private readonly controller: AbortController,
  ) {}

  static async open(url: string, request: { query: string; variables?: Record<string, unknown> }, headers: Record<string, string> = {}): Promise<SseSubscription> {
    const controller = new AbortController();
    const response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'text/event-stream', ...headers },
      body: JSON.stringify(request),
      signal: controller.signal,
    });
    if (!response.headers.get('content-type')?.startsWith('text/event-stream')) {
      throw new Error(`not an event stream (${response.status}): ${await response.text()}`);
    }
    return new SseSubscription(response, response.body!.getReader(), controller);
  }

  /** The next `next` event's payload; undefined after `complete` or when the connection ends. */
  async next(): Promise<SubscriptionResult | undefined> {
    for (;;) {
      const end = this.buffer.indexOf('\n\n');
      if (end !== -1) {
        const block = this.buffer.slice(0, end);
        this.buffer = this.buffer.slice(end + 2);
        let event = 'message';
        const data: string[] = [];
        for (const line of block.split('\n')) {
          if (line.startsWith('event:')) event = line.slice(6).trim();
          else if (line.startsWith('data:')) data.push(line.slice(5).replace(/^ /, ''));
        }
        if (event === 'complete') {
          this.completed = true;
          return undefined;
        }
        if (event === 'next') return JSON.parse(data.join('\n')) as SubscriptionResult;
        continue; // a ping (":" comment) or an unknown event
      }
      if (this.ended) return undefined;
      let read: ReadableStreamReadResult<Uint8Array>;
      try {
        read = await this.reader.read();
      } catch {
        this.ended = true; // the connection broke (e.g. the server was closed)
        continue;
      }
      if (read.done) this.ended = true;
      else this.buffer += this.decoder.decode(read.value, { stream: true });
    }
  }

  /** Every remaining payload until the stream ends. */
  async rest(): Promise<SubscriptionResult[]> {
    const results: SubscriptionResult[] = [];
    for (let result = await this.next(); result; result = await this.next()) results.push(result);
    return results;
  }

  /** Goes away like a client closing the tab: the connection is aborted. */
  close(): void {
    this.controller.abort();
  }
}
