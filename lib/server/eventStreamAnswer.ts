import type { ExecutionResult } from 'graphql';
import { createHandler } from 'graphql-sse';
import type { OutgoingHttpHeaders } from 'node:http';
import { publicResult } from './resultAnswer.ts';
import type { ServerExchange } from './serverExchange.ts';

interface StreamContext {
  events: AsyncGenerator<ExecutionResult>;
  /** Each result's `extensions.eventId` (or undefined), in the order graphql-sse writes its `next` events. */
  ids: Array<string | undefined>;
}

export interface EventStreamAnswerOptions {
  /**
   * Aborted when the server is leaving (a router draining behind a balancer): every open stream then
   * ends at once, cleanly but without `complete`, which graphql-sse's client, EventSource and the chat
   * page all take as "reconnect", with `Last-Event-ID`, through the balancer to another instance.
   * `complete` would tell them the operation is over. @default never
   */
  leaving?: AbortSignal;
}

/**
 * Answers over Server-Sent Events with graphql-sse's own handler (its distinct connections mode, the
 * one yoga and the graphql-sse client speak): the handler writes the protocol, the pings and the
 * `complete`, and ends the operation when the client goes; the operation itself is ours, already
 * checked and run by the server's stages (a refusal before the stream starts is answered as JSON with
 * its status, as graphql-sse answers its own). One addition: a result carrying `extensions.eventId`
 * is sent with that SSE `id`, so a client (or the next tier) that reconnects with `Last-Event-ID`
 * resumes after it.
 */
export function createEventStreamAnswer({ leaving }: EventStreamAnswerOptions = {}): (exchange: ServerExchange, events: AsyncGenerator<ExecutionResult>, headers: OutgoingHttpHeaders) => Promise<void> {
  const handler = createHandler<ServerExchange, StreamContext>({
    // Distinct connections only: no stream is registered for later operations.
    authenticate: () => null,
    onSubscribe: (request) => request.context.events,
    onNext: (_context, request, result) => {
      const eventId = (result as ExecutionResult).extensions?.eventId;
      request.context.ids.push(typeof eventId === 'string' && !/[\r\n]/.test(eventId) ? eventId : undefined);
      return publicResult(result as ExecutionResult);
    },
  });

  return async (exchange, events, headers) => {
    const context: StreamContext = { events, ids: [] };
    const [body, init] = await handler({
      method: 'POST',
      url: exchange.url,
      // The parameters were read and checked before: the handler only needs to see a stream request.
      headers: { get: (name) => (name === 'accept' ? 'text/event-stream' : name === 'content-type' ? 'application/json' : exchange.header(name)) },
      body: { query: '' },
      raw: exchange,
      context,
    });
    const answerHeaders = { ...headers, ...init.headers };
    if (!body || typeof body === 'string') {
      exchange.send(init.status, answerHeaders, body ?? undefined);
      return;
    }
    exchange.start(init.status, answerHeaders);
    exchange.onClose(() => void body.return(undefined));
    // Leaving: nothing more is written (graphql-sse would queue its `complete` as the operation
    // returns), the response ends, and the operation lets go of its upstream.
    let left = false;
    const leave = () => {
      left = true;
      exchange.end();
      void body.return(undefined);
    };
    if (leaving?.aborted) leave();
    else leaving?.addEventListener('abort', leave, { once: true });
    try {
      for await (const message of body) {
        if (left || !exchange.writable) break;
        const written = exchange.write(message.startsWith('event: next\n') ? withId(message, context.ids.shift()) : message);
        if (!written) await exchange.drained();
      }
      if (!left) exchange.end();
    } finally {
      leaving?.removeEventListener('abort', leave);
    }
  };
}

/** A `next` event with its `id:` line, which EventSource reports as the last event id. */
function withId(message: string, id: string | undefined): string {
  return id === undefined ? message : `event: next\nid: ${id}\n${message.slice('event: next\n'.length)}`;
}
