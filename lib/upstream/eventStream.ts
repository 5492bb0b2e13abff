import { createParser, type EventSourceMessage } from 'eventsource-parser';
import { StringDecoder } from 'node:string_decoder';
import type { FailureReason } from '../errors.ts';
import { createDeadline } from './deadline.ts';
import type { Replica } from './replicaPool.ts';
import { ExchangeError } from './sendRequest.ts';
import { UpstreamError, type CallKind, type UpstreamClient } from './upstreamClient.ts';

/** One server-sent event of a GraphQL-over-SSE stream. */
export interface StreamEvent {
  /** `next` (a result) or `complete` (the end). */
  event: string;
  data: string;
  /** The SSE `id`, when the upstream gave one. */
  id?: string;
}

/** An open stream to one replica. Iterate its events; `close()` aborts it (idempotent). */
export interface OpenStream {
  replica: string;
  events: AsyncIterable<StreamEvent>;
  close(): void;
}

export interface OpenStreamOptions {
  headers: Record<string, string>;
  /**
   * Whether a replica that may have received the opening can be left for another: a stream may
   * start work (a chat answer), so a first opening is a `write` unless its root field is declared
   * `@idempotent` and carries its key; a re-opening with `lastEventId` resumes and is always safe.
   */
  kind: CallKind;
  /** Resumes after this event (sent as `Last-Event-ID`). */
  lastEventId?: string;
  /** Replicas not to use (the one whose stream just broke). */
  exclude?: ReadonlySet<string>;
  signal?: AbortSignal;
}

/**
 * Opens a GraphQL-over-SSE stream (`accept: text/event-stream`, graphql-sse's distinct connections
 * mode) on one replica of `client`'s pool, through its breaker: the opening is the call the breaker
 * judges and the pool measures; the events that follow are the caller's. A replica that refuses or
 * fails to open is left for another, once per replica, by the same rules as a call: a `write`
 * opening that may have reached its replica is not sent again.
 */
export async function openEventStream(client: UpstreamClient, body: string, options: OpenStreamOptions): Promise<OpenStream> {
  const pool = client.pool;
  const tried = new Set<Replica>();
  const repeatable = options.kind !== 'write' || options.lastEventId !== undefined;
  let lastReason: FailureReason = 'no_healthy_replica';
  let lastReached = false;
  for (let attempt = 1; ; attempt++) {
    const replica = pool.pick(tried);
    if (!replica) throw new UpstreamError(pool.name, lastReason, attempt - 1, { reached: lastReached });
    tried.add(replica);
    if (options.exclude?.has(replica.url) && pool.size > tried.size) continue;
    try {
      const opened = await client.guard(() => openOn(client, replica, body, options, tried));
      if (attempt > 1) client.countRetry(lastReached ? 'repeatable' : 'unreached');
      return opened;
    } catch (error) {
      if (!(error instanceof UpstreamError) || error.cancelled || error.reason === 'circuit_open' || options.signal?.aborted) throw error;
      // An opening that may have started work on its replica is not sent to another.
      if (!repeatable && !error.retryable) {
        client.countRetryRefused('reached_write');
        throw error;
      }
      lastReason = error.reason;
      lastReached = error.reached;
    }
  }
}

async function openOn(client: UpstreamClient, replica: Replica, body: string, options: OpenStreamOptions, tried: ReadonlySet<Replica>): Promise<OpenStream> {
  const { pool } = client;
  const controller = new AbortController();
  const onAbort = () => controller.abort(options.signal?.reason);
  options.signal?.addEventListener('abort', onAbort, { once: true });
  // Only the opening has a deadline; a stream may then stay quiet for as long as it likes.
  const deadline = createDeadline(client.attemptTimeoutMs, controller.signal);
  const started = performance.now();
  // The breaker hears of a failure only when no live replica is left beside those that failed.
  const failed = (reason: FailureReason, reached: boolean, cancelled = false) =>
    new UpstreamError(pool.name, reason, 1, {
      cancelled,
      reached,
      retryable: !reached || options.kind !== 'write' || options.lastEventId !== undefined,
      write: options.kind !== 'query',
      upstreamWide: !pool.hasLiveReplica(tried),
    });
  pool.onStart(replica);
  let response;
  try {
    // Through the client's transport: over HTTP/2 the stream is one more on a shared connection.
    response = await client.transport.open(replica.url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        accept: 'text/event-stream',
        ...(options.lastEventId ? { 'last-event-id': options.lastEventId } : {}),
        ...options.headers,
      },
      body,
      signal: deadline.signal,
    });
  } catch (error) {
    const cancelled = !deadline.timedOut && Boolean(options.signal?.aborted);
    pool.onFailure(replica, performance.now() - started, !cancelled);
    options.signal?.removeEventListener('abort', onAbort);
    // The transport says whether the opening was written before the exchange broke.
    const reached = !(error instanceof ExchangeError) || error.requestSent;
    throw failed(deadline.timedOut ? 'timeout' : 'network', reached, cancelled);
  } finally {
    deadline.dispose();
  }
  const type = response.headers['content-type'] ?? '';
  if (response.statusCode >= 400 || !type.startsWith('text/event-stream')) {
    // A GraphQL error answer (validation, auth) comes as JSON: the caller reads it as one event.
    const text = await response.text().catch(() => '');
    options.signal?.removeEventListener('abort', onAbort);
    if (response.statusCode >= 500) {
      pool.onFailure(replica, performance.now() - started);
      throw failed('http_5xx', true);
    }
    pool.onSuccess(replica, performance.now() - started);
    return { replica: replica.url, events: single({ event: 'next', data: text }), close() {} };
  }
  pool.onSuccess(replica, performance.now() - started);
  const close = () => {
    options.signal?.removeEventListener('abort', onAbort);
    controller.abort(new DOMException('stream closed', 'AbortError'));
  };
  return { replica: replica.url, events: parseEvents(response.body, close), close };
}

async function* single(event: StreamEvent): AsyncGenerator<StreamEvent> {
  yield event;
  yield { event: 'complete', data: '' };
}

/** SSE frames to events; comments (pings) are skipped. Closing the iteration aborts the request. */
async function* parseEvents(body: AsyncIterable<Uint8Array>, close: () => void): AsyncGenerator<StreamEvent> {
  const pending: StreamEvent[] = [];
  const parser = createParser({
    onEvent: (message: EventSourceMessage) => pending.push({ event: message.event ?? 'message', data: message.data, id: message.id }),
  });
  // A string decoder keeps a character split between chunks whole, for a few bytes per stream.
  const decoder = new StringDecoder('utf8');
  try {
    for await (const chunk of body) {
      parser.feed(decoder.write(chunk as Buffer));
      while (pending.length) yield pending.shift()!;
    }
  } finally {
    close();
  }
}
