import { connect, constants, type ClientHttp2Session, type ClientHttp2Stream, type IncomingHttpHeaders } from 'node:http2';
import { createConnection } from 'node:net';
import { ExchangeError, type SendRequestOptions } from './sendRequest.ts';
import type { OpenedResponse, OpenRequestOptions, UpstreamTransport } from './upstreamTransport.ts';

export interface MultiplexedTransportOptions {
  /** What an upstream that does not speak HTTP/2 is spoken to with (http1Transport). */
  http1: UpstreamTransport;
  /** Connections to one upstream instance at most. @default 4 */
  maxSessionsPerOrigin?: number;
  /** Streams one connection carries before the next request opens another (up to the most). @default 256 */
  streamsPerSession?: number;
  /** How long an instance found not to speak HTTP/2 is spoken to in HTTP/1.1 before it is asked again. @default 60000 */
  http1RecheckMs?: number;
  /** How long a new connection may take to say it speaks HTTP/2. @default 5000 */
  connectTimeoutMs?: number;
  /** @default Date.now */
  now?: () => number;
}

/** Per stream and per connection, what the upstream may send before we read: an 88 KB answer in one go. */
const STREAM_WINDOW_BYTES = 1 << 20;
const CONNECTION_WINDOW_BYTES = 32 << 20;
/** nghttp2's memory for one connection: its default 10 MB ends a connection carrying thousands of open streams. */
const SESSION_MEMORY_MB = 512;

/** A connection and how many streams it carries now. */
interface Session {
  http2: ClientHttp2Session;
  active: number;
  /** The peer said it is going away (GOAWAY): no new streams on it. */
  leaving: boolean;
}

interface Origin {
  sessions: Session[];
  /** A connection being opened; undefined when the instance answered it does not speak HTTP/2. */
  connecting: Promise<Session | undefined> | undefined;
  /** Until when the instance is spoken to in HTTP/1.1. */
  http1Until: number;
}

/**
 * Upstream calls and streams over HTTP/2 without TLS (prior knowledge, node:http2): a few long-lived
 * connections per upstream instance carry every request and every stream at once, so ten thousand
 * open streams through a router cost it ten thousand streams, not ten thousand sockets (and the
 * gateway as many accepts). A new connection is opened only when every one is busy past
 * `streamsPerSession`. An instance that does not speak HTTP/2 (its first connection ends before
 * the HTTP/2 settings arrive) is spoken to in HTTP/1.1 for a while, then asked again; `https:` is
 * always the HTTP/1.1 transport's. Why not undici's own client: measured at 3.8× the CPU per request
 * of node:http2 here (bench notes in the closing report), its HTTP/2 dispatch built on top of it.
 */
export function multiplexedTransport(options: MultiplexedTransportOptions): UpstreamTransport {
  const { http1, maxSessionsPerOrigin = 4, streamsPerSession = 256, http1RecheckMs = 60_000, connectTimeoutMs = 5_000, now = Date.now } = options;
  const origins = new Map<string, Origin>();
  // Replica URLs are few and asked for on every call: each is parsed once.
  const urls = new Map<string, URL>();
  const parsed = (url: string) => {
    let known = urls.get(url);
    if (!known) {
      known = new URL(url);
      if (urls.size < 10_000) urls.set(url, known);
    }
    return known;
  };
  let closed = false;

  function originOf(url: URL): Origin {
    let origin = origins.get(url.origin);
    if (!origin) origins.set(url.origin, (origin = { sessions: [], connecting: undefined, http1Until: 0 }));
    return origin;
  }

  /** The least busy connection that takes new streams. */
  function leastBusy(origin: Origin): Session | undefined {
    let best: Session | undefined;
    for (const session of origin.sessions) if (!session.leaving && (!best || session.active < best.active)) best = session;
    return best;
  }

  /**
   * A connection with room for one more stream, that stream's place taken on it (so callers that
   * waited for the same new connection spread over the next ones); undefined when none has room now
   * (or the instance is spoken to in HTTP/1.1). Synchronous: the usual call costs no promise.
   */
  function placeNow(url: URL): Session | undefined {
    if (url.protocol !== 'http:' || closed) return undefined;
    const origin = originOf(url);
    if (origin.http1Until > now()) return undefined;
    const best = leastBusy(origin);
    if (!best || (best.active >= streamsPerSession && origin.sessions.length < maxSessionsPerOrigin)) return undefined;
    best.active++;
    return best;
  }

  /**
   * A place on a connection once one can take it, or undefined to speak HTTP/1.1. One connection
   * opens at a time; the requests that wait for it then look again. Waiting is still unsent: any of
   * the request's signals (its deadline, the replica's outage) settles it at once.
   */
  async function placeLater(url: URL, options: OpenRequestOptions): Promise<Session | undefined> {
    if (url.protocol !== 'http:' || closed) return undefined;
    const origin = originOf(url);
    for (;;) {
      if (origin.http1Until > now()) return undefined;
      const place = placeNow(url);
      if (place) return place;
      const opening = (origin.connecting ??= open(url, origin).finally(() => (origin.connecting = undefined)));
      try {
        if ((await untilAborted(opening, options)) === undefined) return undefined;
      } catch (error) {
        // A new connection could not be made: a busy one still can take the call (unless it was let go).
        const letGo = options.signal.aborted || options.headersSignal?.aborted || options.unsentSignal?.aborted;
        const busy = letGo ? undefined : leastBusy(origin);
        if (!busy) throw error;
        busy.active++;
        return busy;
      }
    }
  }

  function open(url: URL, origin: Origin): Promise<Session | undefined> {
    return new Promise((resolve, reject) => {
      const http2 = connect(url.origin, {
        // No Nagle: a request's HEADERS and DATA frames go out at once, not after the peer's delayed ACK (40 ms).
        createConnection: () => createConnection({ host: url.hostname.replace(/^\[|\]$/g, ''), port: Number(url.port || 80), noDelay: true }),
        settings: { initialWindowSize: STREAM_WINDOW_BYTES, enablePush: false },
        maxSessionMemory: SESSION_MEMORY_MB,
        // Until the peer's SETTINGS say how many streams it takes, assume plenty: ours take 100,000.
        peerMaxConcurrentStreams: 10_000,
      });
      const session: Session = { http2, active: 0, leaving: false };
      let connected = false;
      let settled = false;
      const timer = setTimeout(() => fail(Object.assign(new Error('HTTP/2 connection timed out'), { code: 'UND_ERR_CONNECT_TIMEOUT' })), connectTimeoutMs);
      timer.unref();
      const fail = (error: unknown) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        http2.destroy();
        // The socket connected, yet no HTTP/2 settings came back: the instance speaks only HTTP/1.1.
        if (connected && (error as { code?: string } | undefined)?.code !== 'UND_ERR_CONNECT_TIMEOUT') {
          origin.http1Until = now() + http1RecheckMs;
          resolve(undefined);
        } else {
          reject(new ExchangeError(error, false));
        }
      };
      http2.once('connect', () => {
        connected = true;
        http2.setLocalWindowSize(CONNECTION_WINDOW_BYTES);
      });
      http2.once('remoteSettings', () => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        origin.sessions.push(session);
        resolve(session);
      });
      http2.on('error', fail);
      http2.once('close', () => {
        fail(new Error('HTTP/2 connection closed before its settings'));
        origin.sessions = origin.sessions.filter((s) => s !== session);
      });
      http2.on('goaway', () => {
        session.leaving = true;
        origin.sessions = origin.sessions.filter((s) => s !== session);
      });
      // Long-lived and shared: it must not keep a process alive by itself.
      http2.unref();
    });
  }

  /** Starts one stream on a place sessionFor took; resolves with its answer's headers and the stream to read. */
  function exchange(session: Session, url: URL, options: OpenRequestOptions): Promise<{ stream: ClientHttp2Stream; headers: IncomingHttpHeaders }> {
    return new Promise((resolve, reject) => {
      const { signal, headersSignal } = options;
      const aborted = signal.aborted ? signal : headersSignal?.aborted ? headersSignal : undefined;
      if (aborted) {
        session.active--;
        return reject(new ExchangeError(aborted.reason, false));
      }
      let written = false;
      let answered = false;
      let stream: ClientHttp2Stream;
      try {
        stream = session.http2.request({ ':method': options.method, ':path': url.pathname + url.search, ...options.headers }, { endStream: options.body === undefined });
      } catch (error) {
        // The connection went away between the pick and the request: nothing was sent.
        session.active--;
        session.leaving = true;
        return reject(new ExchangeError(error, false));
      }
      let cancelledBy: AbortSignal | undefined;
      const onAbort = (event: Event) => {
        cancelledBy ??= event.target as AbortSignal;
        stream.close(constants.NGHTTP2_CANCEL);
      };
      signal.addEventListener('abort', onAbort, { once: true });
      headersSignal?.addEventListener('abort', onAbort, { once: true });
      // A refused stream (the peer was going away) never reached the application: another replica may have it.
      const reached = () => written && stream.rstCode !== constants.NGHTTP2_REFUSED_STREAM;
      stream.once('response', (headers) => {
        answered = true;
        headersSignal?.removeEventListener('abort', onAbort);
        resolve({ stream, headers });
      });
      stream.on('error', (error) => {
        if (!answered) reject(new ExchangeError(cancelledBy ? cancelledBy.reason : error, reached()));
      });
      stream.once('close', () => {
        session.active--;
        signal.removeEventListener('abort', onAbort);
        headersSignal?.removeEventListener('abort', onAbort);
        if (!answered) reject(new ExchangeError(cancelledBy ? cancelledBy.reason : new Error(`stream closed (${stream.rstCode})`), reached()));
      });
      if (options.body === undefined) written = true;
      else stream.end(options.body, () => (written = true));
    });
  }

  return {
    async send(url, options) {
      const target = parsed(url);
      const session = placeNow(target) ?? (await placeLater(target, options));
      if (!session) return http1.send(url, options);
      const { stream, headers } = await exchange(session, target, options);
      return new Promise((resolve, reject) => {
        const chunks: Buffer[] = [];
        stream.on('data', (chunk: Buffer) => chunks.push(chunk));
        stream.once('end', () => resolve({ statusCode: Number(headers[':status']), headers: plainHeaders(headers), body: Buffer.concat(chunks).toString('utf8') }));
        stream.once('close', () => stream.readableEnded || reject(new ExchangeError(options.signal.aborted ? options.signal.reason : new Error('the answer was cut off'), true)));
      });
    },
    async open(url, options) {
      const target = parsed(url);
      const session = placeNow(target) ?? (await placeLater(target, options));
      if (!session) return http1.open(url, options);
      const { stream, headers } = await exchange(session, target, options);
      return {
        statusCode: Number(headers[':status']),
        headers: plainHeaders(headers),
        body: stream,
        text: async () => {
          const chunks: Buffer[] = [];
          for await (const chunk of stream) chunks.push(chunk as Buffer);
          return Buffer.concat(chunks).toString('utf8');
        },
      } satisfies OpenedResponse;
    },
    async close() {
      closed = true;
      for (const origin of origins.values()) for (const session of origin.sessions) session.http2.close();
      origins.clear();
      await http1.close();
    },
  };
}

/** `promise`, or an unsent ExchangeError as soon as one of the request's signals aborts. */
function untilAborted<T>(promise: Promise<T>, options: OpenRequestOptions): Promise<T> {
  const signals = [options.signal, options.headersSignal, options.unsentSignal].filter((s): s is AbortSignal => s !== undefined);
  const aborted = signals.find((s) => s.aborted);
  if (aborted) return Promise.reject(new ExchangeError(aborted.reason, false));
  return new Promise<T>((resolve, reject) => {
    const onAbort = (event: Event) => {
      done();
      reject(new ExchangeError((event.target as AbortSignal).reason, false));
    };
    const done = () => {
      for (const s of signals) s.removeEventListener('abort', onAbort);
    };
    for (const s of signals) s.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => (done(), resolve(value)),
      (error: unknown) => (done(), reject(error)),
    );
  });
}

function plainHeaders(headers: IncomingHttpHeaders): Record<string, string> {
  const plain: Record<string, string> = {};
  for (const name in headers) {
    const value = headers[name];
    if (name[0] !== ':' && value !== undefined) plain[name] = Array.isArray(value) ? value[0] : String(value);
  }
  return plain;
}
