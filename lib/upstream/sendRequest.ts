import type { Dispatcher } from 'undici';

/** An upstream's answer, read whole. */
export interface SentResponse {
  statusCode: number;
  /** Header names in lower case; a repeated header keeps its first value. */
  headers: Record<string, string>;
  body: string;
}

/**
 * Why an exchange failed, and whether the request ever left this process whole. `requestSent`
 * false means the replica cannot have acted on it (the connection was refused, or broke before the
 * last byte of the body was written): sending it to another replica is safe whatever it does.
 */
export class ExchangeError extends Error {
  override name = 'ExchangeError';
  constructor(
    override readonly cause: unknown,
    readonly requestSent: boolean,
  ) {
    super(cause instanceof Error ? cause.message : String(cause));
  }
}

export interface SendRequestOptions {
  method: 'GET' | 'POST';
  headers: Record<string, string>;
  body?: string;
  signal: AbortSignal;
  /**
   * Aborts the exchange only while its request has not been written (still queued for a
   * connection): once written, it runs on to its answer or its deadline. @default none
   */
  unsentSignal?: AbortSignal;
}

/**
 * One HTTP exchange through an undici dispatcher, like undici's `request` but with the one fact a
 * write's retry depends on: whether the request was written whole before it failed. `request`
 * does not say; the dispatcher's handler is told (`onRequestSent`), so this drives it directly.
 * An abort settles the exchange at once, even while the request still waits in the dispatcher's
 * queue for a connection (undici's `request` only rejects once a connection takes it up); the
 * queued request is then dropped unsent when its turn comes.
 */
export function sendRequest(dispatcher: Dispatcher, url: string, options: SendRequestOptions): Promise<SentResponse> {
  const target = new URL(url);
  const { signal, unsentSignal } = options;
  return new Promise((resolve, reject) => {
    let sent = false;
    let settled = false;
    /** Why the exchange was abandoned, once it was: the request is dropped when a connection takes it up. */
    let abandoned: unknown;
    let abortRequest: ((reason?: Error) => void) | undefined;
    let statusCode = 0;
    let headers: Record<string, string> = {};
    const chunks: Buffer[] = [];
    const finish = () => {
      settled = true;
      signal.removeEventListener('abort', onAbort);
      unsentSignal?.removeEventListener('abort', onUnsentAbort);
    };
    const fail = (error: unknown) => {
      if (settled) return;
      finish();
      reject(new ExchangeError(abandoned ?? error, sent));
    };
    const abandon = (reason: unknown) => {
      abandoned = reason;
      abortRequest?.(reason as Error);
      fail(reason);
    };
    function onAbort() {
      abandon(signal.reason);
    }
    function onUnsentAbort() {
      if (!sent) abandon(unsentSignal!.reason);
    }
    if (signal.aborted) return fail(signal.reason);
    if (unsentSignal?.aborted) return fail(unsentSignal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    unsentSignal?.addEventListener('abort', onUnsentAbort, { once: true });
    // The handler API that undici's own `request` uses; its typings omit `onRequestSent`, which undici calls.
    const handler: Dispatcher.DispatchHandler & { onRequestSent(): void } = {
      onConnect(abortThis) {
        if (abandoned !== undefined) abortThis(abandoned as Error);
        else abortRequest = abortThis;
      },
      onRequestSent() {
        sent = true;
      },
      onHeaders(status: number, rawHeaders: Buffer[]) {
        sent = true; // an answer began: the request reached the replica, whatever the handler was told
        statusCode = status;
        headers = readHeaders(rawHeaders);
        return true;
      },
      onData(chunk: Buffer) {
        chunks.push(chunk);
        return true;
      },
      onComplete() {
        if (settled) return;
        finish();
        resolve({ statusCode, headers, body: Buffer.concat(chunks).toString('utf8') });
      },
      onError: fail,
    };
    try {
      dispatcher.dispatch(
        { origin: target.origin, path: target.pathname + target.search, method: options.method, headers: options.headers, body: options.body },
        handler,
      );
    } catch (error) {
      fail(error);
    }
  });
}

function readHeaders(raw: Buffer[] | string[] | null): Record<string, string> {
  const headers: Record<string, string> = {};
  if (!raw) return headers;
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i].toString().toLowerCase();
    headers[name] ??= raw[i + 1].toString();
  }
  return headers;
}
