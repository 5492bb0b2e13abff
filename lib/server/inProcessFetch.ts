import type { IncomingHttpHeaders, OutgoingHttpHeaders } from 'node:http';
import { Readable } from 'node:stream';
import type { ServerExchange } from './serverExchange.ts';

/**
 * Serves one WHATWG Request through a component's handler without a socket, and resolves with its
 * answer as a Response once the headers are sent (the body streams after): what `yoga.fetch` gave
 * the fast in-process tests. Tests only: the server's own path never builds these objects.
 */
export function fetchInProcess(handle: (exchange: ServerExchange) => void, url: string, init?: RequestInit): Promise<Response> {
  const request = new Request(url, init);
  return new Promise((resolve, reject) => {
    const exchange = new FetchExchange(request, resolve);
    try {
      handle(exchange);
    } catch (error) {
      reject(error);
    }
  });
}

class FetchExchange implements ServerExchange {
  readonly protocol = 'http/1.1';
  readonly method: string;
  url: string;
  readonly headers: IncomingHttpHeaders = {};
  readonly remoteAddress = undefined;
  readonly body: Readable;
  decorate: ((headers: OutgoingHttpHeaders) => void) | undefined;
  #status = 0;
  #controller: ReadableStreamDefaultController<Uint8Array> | undefined;
  #ended = false;
  #closed = false;
  #closeListeners: Array<() => void> = [];
  readonly #abort = new AbortController();

  constructor(
    private readonly request: Request,
    private readonly respond: (response: Response) => void,
  ) {
    const parsed = new URL(request.url);
    this.method = request.method;
    this.url = parsed.pathname + parsed.search;
    this.headers.host = parsed.host;
    request.headers.forEach((value, name) => {
      this.headers[name] = value;
    });
    this.body = request.body ? Readable.fromWeb(request.body as never) : Readable.from([]);
    request.signal.addEventListener('abort', () => this.#close(), { once: true });
  }

  get signal(): AbortSignal {
    return this.#abort.signal;
  }
  get headersSent(): boolean {
    return this.#status !== 0;
  }
  get status(): number {
    return this.#status;
  }
  get writable(): boolean {
    return !this.#ended;
  }
  header(name: string): string | undefined {
    const value = this.headers[name];
    return Array.isArray(value) ? value[0] : value;
  }
  send(status: number, headers: OutgoingHttpHeaders, body?: string | Uint8Array): void {
    if (body !== undefined && headers['content-length'] === undefined) headers['content-length'] = typeof body === 'string' ? Buffer.byteLength(body) : body.byteLength;
    this.start(status, headers);
    this.end(this.method === 'HEAD' ? undefined : body);
  }
  start(status: number, headers: OutgoingHttpHeaders): void {
    this.decorate?.(headers);
    this.#status = status;
    const stream = new ReadableStream<Uint8Array>({
      start: (controller) => {
        this.#controller = controller;
      },
      cancel: () => this.#close(),
    });
    const fetchHeaders = new Headers();
    for (const [name, value] of Object.entries(headers)) {
      if (value !== undefined) fetchHeaders.set(name, Array.isArray(value) ? value.join(', ') : String(value));
    }
    const noBody = status === 204 || status === 304;
    this.respond(new Response(noBody ? null : stream, { status, headers: fetchHeaders }));
  }
  write(chunk: string | Uint8Array): boolean {
    if (!this.#ended) this.#controller?.enqueue(typeof chunk === 'string' ? new TextEncoder().encode(chunk) : chunk);
    return true;
  }
  drained(): Promise<void> {
    return Promise.resolve();
  }
  end(chunk?: string | Uint8Array): void {
    if (this.#ended) return;
    if (chunk !== undefined) this.write(chunk);
    this.#ended = true;
    try {
      this.#controller?.close();
    } catch {
      // the reader cancelled first
    }
    this.#finish();
  }
  onClose(listener: () => void): void {
    if (this.#closed) listener();
    else this.#closeListeners.push(listener);
  }
  destroy(): void {
    if (this.#ended) return;
    this.#ended = true;
    this.#controller?.error(new Error('the answer was cut off'));
    this.#finish();
  }
  #close(): void {
    if (!this.#ended) {
      this.#ended = true;
      this.#abort.abort(new DOMException('the client went away', 'AbortError'));
    }
    this.#finish();
  }
  #finish(): void {
    this.#closed = true;
    for (const listener of this.#closeListeners.splice(0)) listener();
  }
}
