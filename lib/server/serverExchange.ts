import type { IncomingHttpHeaders, IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import type { ServerHttp2Stream } from 'node:http2';
import type { Readable } from 'node:stream';

/**
 * One request and its answer, whichever protocol carried them: every stage of a component's server
 * reads and writes this, never a WHATWG Request or Response, so a request costs the objects Node made
 * for it and one more.
 */
export interface ServerExchange {
  readonly method: string;
  /** The origin-form target (path and query), as read by readRequestTarget. */
  url: string;
  /** Lower-cased names, as Node parsed them; `host` is set from `:authority` over HTTP/2. */
  readonly headers: IncomingHttpHeaders;
  readonly remoteAddress: string | undefined;
  readonly protocol: 'http/1.1' | 'h2';
  /** The request body as it arrives. */
  readonly body: Readable;
  /** Aborts when the client goes away before the answer is complete; made on first use. */
  readonly signal: AbortSignal;
  readonly headersSent: boolean;
  /** The status sent, 0 before. */
  readonly status: number;
  /** False once the client is gone or the answer ended. */
  readonly writable: boolean;
  /** The first value of a header, or undefined. */
  header(name: string): string | undefined;
  /** Answers at once: status, headers and the whole body. */
  send(status: number, headers: OutgoingHttpHeaders, body?: string | Uint8Array): void;
  /** Starts an answer whose body follows in `write`s. */
  start(status: number, headers: OutgoingHttpHeaders): void;
  /** False when the client reads slower than the answer is written: wait for `drained()`. */
  write(chunk: string | Uint8Array): boolean;
  drained(): Promise<void>;
  end(chunk?: string | Uint8Array): void;
  /** Called once, when the answer ended or the client went away. */
  onClose(listener: () => void): void;
  /** Cuts the answer (a broken stream). */
  destroy(): void;
  /** Adds the headers every answer of the component carries (security headers, CORS), whoever answers. @default none */
  decorate: ((headers: OutgoingHttpHeaders) => void) | undefined;
}

/** Headers HTTP/2 forbids (RFC 9113 §8.2.2): connection-specific ones a shared writer may still set. */
const CONNECTION_HEADERS = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade']);

/** The abort reason when a client leaves. */
function clientGone(): DOMException {
  return new DOMException('the client went away', 'AbortError');
}

/** An exchange over HTTP/1.1: the request and response objects Node made, nothing copied. */
export class Http1Exchange implements ServerExchange {
  readonly protocol = 'http/1.1';
  url: string;
  decorate: ((headers: OutgoingHttpHeaders) => void) | undefined;
  #controller: AbortController | undefined;

  constructor(
    readonly request: IncomingMessage,
    readonly response: ServerResponse,
  ) {
    this.url = request.url ?? '/';
  }

  get method(): string {
    return this.request.method ?? 'GET';
  }
  get headers(): IncomingHttpHeaders {
    return this.request.headers;
  }
  get remoteAddress(): string | undefined {
    return this.request.socket.remoteAddress;
  }
  get body(): Readable {
    return this.request;
  }
  get signal(): AbortSignal {
    if (!this.#controller) {
      const controller = (this.#controller = new AbortController());
      if (this.response.writableFinished || this.response.destroyed) controller.abort(clientGone());
      else this.response.once('close', () => this.response.writableFinished || controller.abort(clientGone()));
    }
    return this.#controller.signal;
  }
  get headersSent(): boolean {
    return this.response.headersSent;
  }
  get status(): number {
    return this.response.headersSent ? this.response.statusCode : 0;
  }
  get writable(): boolean {
    return !this.response.writableEnded && !this.response.destroyed;
  }
  header(name: string): string | undefined {
    const value = this.request.headers[name];
    return Array.isArray(value) ? value[0] : value;
  }
  send(status: number, headers: OutgoingHttpHeaders, body?: string | Uint8Array): void {
    if (!this.writable) return;
    if (body !== undefined && headers['content-length'] === undefined) headers['content-length'] = typeof body === 'string' ? Buffer.byteLength(body) : body.byteLength;
    this.decorate?.(headers);
    this.response.writeHead(status, headers);
    this.response.end(this.method === 'HEAD' ? undefined : body);
  }
  start(status: number, headers: OutgoingHttpHeaders): void {
    this.decorate?.(headers);
    this.response.writeHead(status, headers);
    // Headers now, not with the first chunk: a stream's client learns it was accepted before its first event.
    this.response.flushHeaders();
  }
  write(chunk: string | Uint8Array): boolean {
    return this.writable ? this.response.write(chunk) : true;
  }
  drained(): Promise<void> {
    return waitForDrain(this.response);
  }
  end(chunk?: string | Uint8Array): void {
    if (this.writable) this.response.end(chunk);
  }
  onClose(listener: () => void): void {
    if (this.response.closed) listener();
    else this.response.once('close', listener);
  }
  destroy(): void {
    this.response.destroy();
  }
}

/** An exchange over HTTP/2: one stream of a multiplexed connection, answered with the core API (no compatibility objects). */
export class Http2Exchange implements ServerExchange {
  readonly protocol = 'h2';
  url: string;
  decorate: ((headers: OutgoingHttpHeaders) => void) | undefined;
  #status = 0;
  #controller: AbortController | undefined;

  constructor(
    readonly stream: ServerHttp2Stream,
    readonly headers: IncomingHttpHeaders,
  ) {
    this.url = (headers[':path'] as string | undefined) ?? '/';
    if (headers.host === undefined && typeof headers[':authority'] === 'string') headers.host = headers[':authority'];
  }

  get method(): string {
    return (this.headers[':method'] as string | undefined) ?? 'GET';
  }
  get remoteAddress(): string | undefined {
    return this.stream.session?.socket?.remoteAddress;
  }
  get body(): Readable {
    return this.stream;
  }
  get signal(): AbortSignal {
    if (!this.#controller) {
      const controller = (this.#controller = new AbortController());
      if (this.stream.closed) controller.abort(clientGone());
      else this.stream.once('close', () => this.stream.writableFinished || controller.abort(clientGone()));
    }
    return this.#controller.signal;
  }
  get headersSent(): boolean {
    return this.stream.headersSent;
  }
  get status(): number {
    return this.#status;
  }
  get writable(): boolean {
    return !this.stream.closed && !this.stream.destroyed && !this.stream.writableEnded;
  }
  header(name: string): string | undefined {
    const value = this.headers[name];
    return Array.isArray(value) ? value[0] : value;
  }
  send(status: number, headers: OutgoingHttpHeaders, body?: string | Uint8Array): void {
    if (!this.writable) return;
    const empty = body === undefined || this.method === 'HEAD';
    if (body !== undefined && headers['content-length'] === undefined) headers['content-length'] = typeof body === 'string' ? Buffer.byteLength(body) : body.byteLength;
    this.#respond(status, headers, empty);
    if (!empty) this.stream.end(body);
  }
  start(status: number, headers: OutgoingHttpHeaders): void {
    this.#respond(status, headers, false);
  }
  write(chunk: string | Uint8Array): boolean {
    return this.writable ? this.stream.write(chunk) : true;
  }
  drained(): Promise<void> {
    return waitForDrain(this.stream);
  }
  end(chunk?: string | Uint8Array): void {
    if (this.writable) this.stream.end(chunk);
  }
  onClose(listener: () => void): void {
    if (this.stream.closed) listener();
    else this.stream.once('close', listener);
  }
  destroy(): void {
    this.stream.close();
  }

  #respond(status: number, headers: OutgoingHttpHeaders, endStream: boolean): void {
    this.decorate?.(headers);
    const out: OutgoingHttpHeaders = { ':status': status };
    for (const name in headers) {
      const lower = name.toLowerCase();
      if (!CONNECTION_HEADERS.has(lower) && headers[name] !== undefined) out[lower] = headers[name];
    }
    this.#status = status;
    this.stream.respond(out, { endStream });
  }
}

/** Resolves when `stream` can take more, or at once when it ended. */
function waitForDrain(stream: { writableNeedDrain: boolean; destroyed: boolean; once(event: string, listener: () => void): unknown; off(event: string, listener: () => void): unknown }): Promise<void> {
  if (!stream.writableNeedDrain || stream.destroyed) return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      stream.off('drain', done);
      stream.off('close', done);
      resolve();
    };
    stream.once('drain', done);
    stream.once('close', done);
  });
}
