import type { IncomingMessage, OutgoingHttpHeaders } from 'node:http';
import { Readable, type Duplex } from 'node:stream';
import type { Logger } from 'pino';
import { badRequest, maskedError, methodNotAllowed, notFound } from '../errors.ts';
import { errorBody } from '../errorTransforms.ts';
import { inServerSpan } from '../observability/serverSpan.ts';
import { DATA_ONLY_HEADER } from '../upstream/graphqlResponse.ts';
import { createRequestTelemetry, type RequestRecord, type RequestTelemetry } from '../observability/requestTelemetry.ts';
import { ANSWER_MEDIA_TYPES, acceptedAnswers } from './answerMediaType.ts';
import { createEventStreamAnswer } from './eventStreamAnswer.ts';
import { refusedWith, type GraphQLEndpoint, type OperationAnswer } from './graphqlEndpoint.ts';
import { readGraphQLParams } from './graphqlParams.ts';
import { healthEndpoints, type Readiness } from './healthEndpoints.ts';
import { fetchInProcess } from './inProcessFetch.ts';
import type { NestingLimitsOptions } from './nestingLimits.ts';
import { createProtocolListener } from './protocolListener.ts';
import { readRequestTarget } from './requestTarget.ts';
import { resultJson, resultStatus } from './resultAnswer.ts';
import { Http1Exchange, type ServerExchange } from './serverExchange.ts';
import { sendJson, type ServerRoute } from './serverRoute.ts';

export interface ComponentServerOptions {
  logger: Logger;
  /** The GraphQL endpoint: what is checked before a body is read, and how a request runs. */
  graphql: GraphQLEndpoint;
  /** What `/readyz` answers. */
  readiness(): Promise<Readiness>;
  /** Largest request body, as sent and once decoded. */
  maxBodyBytes: number;
  /** Bounds of the JSON a client sends (nestingLimits.ts). @default its defaults */
  nesting?: NestingLimitsOptions;
  /** Paths answered besides health and GraphQL, in order (pages, assets, an index). @default none */
  routes?: readonly ServerRoute[];
  /** Adds the headers every answer carries (security headers, CORS); may read the request. @default none */
  decorate?(exchange: ServerExchange): ((headers: OutgoingHttpHeaders) => void) | undefined;
  /** Answers an `OPTIONS` request to the GraphQL path (a CORS preflight); without it that is a 405. @default none */
  preflight?: ServerRoute;
  /** Request metrics and log lines. @default a log line per request at `info` */
  telemetry?: RequestTelemetry;
  /** WebSocket upgrades (graphql-ws). @default refused */
  onUpgrade?(request: IncomingMessage, socket: Duplex, head: Buffer): void;
  /** @default "/graphql" */
  graphqlPath?: string;
  /** Idle HTTP/1.1 connections close after this. @default 65000 */
  keepAliveTimeoutMs?: number;
  /** Aborted when the component is leaving a balancer's rotation: its SSE streams end without `complete` (eventStreamAnswer.ts). @default never */
  leaving?: AbortSignal;
  /**
   * Say in a header (`x-graphql-data-only: 1`) when an answer is `{"data":{…}}` and nothing else,
   * so the router can pass it on as it arrives without reading it: gateways do. @default false
   */
  markDataOnly?: boolean;
}

export interface ComponentServer {
  /** Starts listening (HTTP/1.1 and HTTP/2 on one port); `port: 0` picks a free one. */
  listen(port: number, host: string): Promise<{ port: number; url: string }>;
  /** Stops accepting, lets requests in flight finish for `graceMs`, then cuts what is left; idempotent. */
  close(graceMs: number): Promise<void>;
  /** Serves one request in-process, no socket: for tests that need no port. */
  fetch(url: string, init?: RequestInit): Promise<Response>;
}

/**
 * The one server every component runs (router, gateways, subgraphs): plain node:http and node:http2
 * on the hot path, the request read once into our own exchange object, and the GraphQL-over-HTTP
 * protocol in one pass: request target and Host checked, health answered, then for the GraphQL path
 * the method, the component's header screen (signatures, CSRF), the parameters (body limits,
 * decoding, JSON, nesting), the media type, the component's operation, and the answer as JSON,
 * bytes or SSE (graphql-sse's handler). Anything that throws is a masked 500 and a log line.
 */
export function createComponentServer(options: ComponentServerOptions): ComponentServer {
  const { logger, graphql, routes = [], graphqlPath = '/graphql', preflight } = options;
  const telemetry = options.telemetry ?? createRequestTelemetry({ logger });
  const health = healthEndpoints({ readiness: options.readiness });
  const eventStream = createEventStreamAnswer({ leaving: options.leaving });
  const paramsOptions = { maxBodyBytes: options.maxBodyBytes, nesting: options.nesting, extraParams: graphql.extraParams };

  const handle = (exchange: ServerExchange): void => {
    const target = readRequestTarget(exchange.url, hostHeaders(exchange));
    if (!target.ok) return sendJson(exchange, 400, errorBody(badRequest(target.message)));
    exchange.url = target.path;
    if (target.host !== undefined) exchange.headers.host = target.host;
    exchange.decorate = options.decorate?.(exchange);
    const query = target.path.indexOf('?');
    const path = query < 0 ? target.path : target.path.slice(0, query);
    let served: Promise<void>;
    try {
      // In the request's server span: everything it runs (and calls downstream) joins its trace.
      served = inServerSpan(exchange, path, () => serve(exchange, path));
    } catch (error) {
      served = Promise.reject(error);
    }
    served.catch((error: unknown) => {
      // The client left while its request was served: nothing failed, and nobody waits for an answer.
      if (exchange.signal.aborted) {
        logger.debug('the client went away before its answer');
        return exchange.destroy();
      }
      logger.error({ err: error }, 'request failed outside GraphQL handling');
      if (!exchange.headersSent) sendJson(exchange, 500, errorBody(maskedError()));
      else exchange.destroy();
    });
  };

  async function serve(exchange: ServerExchange, path: string): Promise<void> {
    if (await health(exchange, path)) return;
    for (const route of routes) if (await route(exchange, path)) return;
    if (path !== graphqlPath && path !== `${graphqlPath}/`) return sendJson(exchange, 404, errorBody(notFound('There is nothing at this path.')));
    if (exchange.method === 'OPTIONS' && preflight && (await preflight(exchange, path))) return;
    const record = telemetry.begin(exchange.header('traceparent'));
    if (exchange.method !== 'GET' && exchange.method !== 'POST' && exchange.method !== 'HEAD') return answer(exchange, refusedWith(methodNotAllowed()), 'application/json', record);
    const accepted = acceptedAnswers(exchange.header('accept'));
    if (!accepted.single) {
      record.answered(406);
      return exchange.send(406, { accept: ANSWER_MEDIA_TYPES, 'content-length': 0 });
    }
    const mediaType = accepted.single;
    const screened = graphql.screen?.(exchange);
    if (screened) return answer(exchange, refusedWith(screened), mediaType, record);
    const read = await readGraphQLParams(exchange, paramsOptions);
    if (!read.ok) return answer(exchange, refusedWith(read.error), mediaType, record);
    // Named as soon as the parameters say so: a request refused before parsing counts under it too.
    if (read.params.operationName) record.operation(read.params.operationName, undefined);
    const answered = await graphql.run({ exchange, params: read.params, mediaType, streamAccepted: accepted.stream, telemetry: record });
    return answer(exchange, answered, mediaType, record);
  }

  async function answer(exchange: ServerExchange, answered: OperationAnswer, mediaType: string, record: RequestRecord): Promise<void> {
    const extra = answered.headers ?? {};
    if (answered.kind === 'stream') {
      record.answered(200);
      return eventStream(exchange, answered.events, extra);
    }
    if (answered.kind === 'bytes') {
      record.answered(answered.status);
      return sendBytes(exchange, answered, { 'content-type': `${mediaType === 'text/event-stream' ? 'application/json' : mediaType}; charset=utf-8`, ...extra });
    }
    const { result } = answered;
    record.result(result);
    const { status, headers } = resultStatus(result, mediaType);
    record.answered(status);
    if (mediaType === 'text/event-stream' && status < 400) {
      return eventStream(exchange, once(result), { ...headers, ...extra });
    }
    const type = mediaType === 'text/event-stream' ? 'application/json' : mediaType;
    const text = resultJson(result);
    if (options.markDataOnly && status === 200 && !result.errors?.length && !result.extensions && text.startsWith('{"data":{')) headers[DATA_ONLY_HEADER] = '1';
    exchange.send(status, { 'content-type': `${type}; charset=utf-8`, ...headers, ...extra }, text);
  }

  const listener = createProtocolListener({ onExchange: handle, onUpgrade: options.onUpgrade, keepAliveTimeoutMs: options.keepAliveTimeoutMs });
  let closing: Promise<void> | undefined;
  return {
    listen: (port, host) => {
      if (closing) throw new Error('the server is closed');
      return listener.listen(port, host);
    },
    close: (graceMs) => (closing ??= listener.close(graceMs)),
    fetch: (url, init) => fetchInProcess(handle, url, init),
  };
}

/** Sends an answer already serialised, passing its chunks on as they arrive (kept too, when the answer asks). */
async function sendBytes(exchange: ServerExchange, answered: Extract<OperationAnswer, { kind: 'bytes' }>, headers: OutgoingHttpHeaders): Promise<void> {
  const { body } = answered;
  if (typeof body === 'string' || body instanceof Uint8Array) {
    exchange.send(answered.status, headers, body);
    answered.onEnd?.(true, typeof body === 'string' ? body : Buffer.from(body).toString('utf8'));
    return;
  }
  exchange.start(answered.status, headers);
  const kept: Uint8Array[] | undefined = answered.keepWhole ? [] : undefined;
  const complete = body instanceof Readable ? await copy(body, exchange, kept) : await iterate(body, exchange, kept);
  answered.onEnd?.(complete, complete && kept ? Buffer.concat(kept).toString('utf8') : undefined);
  // A body that broke half-way must not look complete to the client: the connection is cut instead.
  if (complete) exchange.end();
  else exchange.destroy();
}

/** Copies a stream to the answer by its events, waiting for the client when it reads slower; true when it ended whole. */
function copy(body: Readable, exchange: ServerExchange, kept: Uint8Array[] | undefined): Promise<boolean> {
  return new Promise((resolve) => {
    let done = false;
    const finish = (complete: boolean) => {
      if (done) return;
      done = true;
      body.off('data', onData);
      body.off('end', onEnd);
      body.off('close', onClose);
      if (!complete) body.destroy();
      resolve(complete);
    };
    const onData = (chunk: Buffer) => {
      if (!exchange.writable) return finish(false);
      kept?.push(chunk);
      if (!exchange.write(chunk)) {
        body.pause();
        void exchange.drained().then(() => (exchange.writable ? body.resume() : finish(false)));
      }
    };
    const onEnd = () => finish(exchange.writable);
    const onClose = () => finish(false);
    body.on('data', onData);
    body.once('end', onEnd);
    body.once('close', onClose);
  });
}

async function iterate(body: AsyncIterable<Uint8Array>, exchange: ServerExchange, kept: Uint8Array[] | undefined): Promise<boolean> {
  try {
    for await (const chunk of body) {
      if (!exchange.writable) return false;
      kept?.push(chunk);
      if (!exchange.write(chunk)) await exchange.drained();
    }
    return exchange.writable;
  } catch {
    return false;
  }
}

async function* once<T>(value: T): AsyncGenerator<T> {
  yield value;
}

/** Every Host header line (Node keeps only the first in `headers`; RFC 9112 §3.2 says more than one is a 400). */
function hostHeaders(exchange: ServerExchange): string[] {
  if (!(exchange instanceof Http1Exchange)) return exchange.headers.host === undefined ? [] : [exchange.headers.host];
  const raw = exchange.request.rawHeaders;
  const values: string[] = [];
  for (let i = 0; i < raw.length; i += 2) {
    if (raw[i].length === 4 && raw[i].toLowerCase() === 'host') values.push(raw[i + 1]);
  }
  return values;
}
