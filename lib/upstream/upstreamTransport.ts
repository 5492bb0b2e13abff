import type { Readable } from 'node:stream';
import { Agent, request, type Dispatcher } from 'undici';
import { ExchangeError, sendRequest, type SendRequestOptions, type SentResponse } from './sendRequest.ts';

/** An answer whose body is read as it arrives (an event stream). */
export interface OpenedResponse {
  statusCode: number;
  /** Header names in lower case; a repeated header keeps its first value. */
  headers: Record<string, string>;
  /** The body as it arrives: its chunks are Buffers; it closes when the exchange ends, however it ends. */
  body: Readable;
  /** The rest of the body as text (for an answer that is not a stream after all). */
  text(): Promise<string>;
}

/**
 * How an upstream client reaches a replica: one exchange read whole (`send`), or one whose answer
 * streams (`open`, whose signal ends it at any time). Both reject with an ExchangeError that says
 * whether the request could have reached the replica, which a write's retry depends on.
 */
/** An exchange whose answer streams: `signal` ends it at any time, `headersSignal` only until its headers arrive. */
export interface OpenRequestOptions extends SendRequestOptions {
  /** An attempt's deadline: once the answer has begun, only `signal` ends it. @default none */
  headersSignal?: AbortSignal;
}

export interface UpstreamTransport {
  send(url: string, options: SendRequestOptions): Promise<SentResponse>;
  open(url: string, options: OpenRequestOptions): Promise<OpenedResponse>;
  /** Closes the connections this transport made; idempotent. */
  close(): Promise<void>;
}

/**
 * Streams over HTTP/1.1 hold a connection each for as long as they live, so they get their own
 * connection pool: sharing the request pool's bounded one would let open streams starve ordinary calls.
 */
export const STREAM_DISPATCHER: Dispatcher = new Agent({ keepAliveTimeout: 10_000, connections: null, bodyTimeout: 0 });

/**
 * Connection failures before anything was sent: the replica never saw the request. (undici's own
 * `request` does not say whether a broken request was written; a refused or unreachable connection
 * is the case that matters, a replica that died.)
 */
const UNREACHED_CODES = new Set(['ECONNREFUSED', 'UND_ERR_CONNECT_TIMEOUT', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH']);

/**
 * HTTP/1.1 through undici: `send` on the keep-alive `dispatcher` (which knows whether a request was
 * written whole), `open` on `streamDispatcher`, whose connections each carry one stream for as long
 * as it lives and so must not starve the pool of ordinary calls. What an upstream that does not
 * speak HTTP/2 gets, and every `https:` one (undici's `allowH2` speaks HTTP/2 there when the
 * dispatcher has it on).
 */
export function http1Transport(dispatcher: Dispatcher, streamDispatcher: Dispatcher): UpstreamTransport {
  return {
    send: (url, options) => sendRequest(dispatcher, url, options),
    async open(url, options) {
      // undici takes one signal: the headers' deadline is folded in until the answer begins.
      const { signal, headersSignal } = options;
      const controller = headersSignal ? new AbortController() : undefined;
      const onAbort = (event: Event) => controller!.abort((event.target as AbortSignal).reason);
      if (controller) for (const parent of [signal, headersSignal!]) parent.aborted ? controller.abort(parent.reason) : parent.addEventListener('abort', onAbort, { once: true });
      let response;
      try {
        response = await request(url, { method: options.method, headers: options.headers, body: options.body, signal: controller?.signal ?? signal, dispatcher: streamDispatcher });
      } catch (error) {
        throw new ExchangeError(error, !UNREACHED_CODES.has(String((error as { code?: unknown }).code)));
      } finally {
        headersSignal?.removeEventListener('abort', onAbort);
      }
      if (controller) response.body.once('close', () => signal.removeEventListener('abort', onAbort));
      const headers: Record<string, string> = {};
      for (const [name, value] of Object.entries(response.headers)) if (value !== undefined) headers[name] = Array.isArray(value) ? value[0] : value;
      return { statusCode: response.statusCode, headers, body: response.body, text: () => response.body.text() };
    },
    close: async () => {},
  };
}
