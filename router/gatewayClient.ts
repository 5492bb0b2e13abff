import type { Readable } from 'node:stream';
import { Agent, type Dispatcher } from 'undici';
import { loadConfig, type Config } from '../lib/config.ts';
import { PRINCIPAL_HEADER, principalSigner, type Principal } from '../lib/principal.ts';
import type { UpstreamFailure } from '../lib/errors.ts';
import type { SupergraphName } from '../lib/topology/loadTopology.ts';
import { createUpstream, type Upstream } from '../lib/upstream/createUpstream.ts';
import { openEventStream, type StreamEvent } from '../lib/upstream/eventStream.ts';
import { openResumableEvents, type Interrupted } from '../lib/upstream/resumableStream.ts';
import { DATA_ONLY_HEADER, isCleanDataBody, lazyGraphQLResponse, parseGraphQLResponse, type GraphQLResponse } from '../lib/upstream/graphqlResponse.ts';
import { multiplexedTransport } from '../lib/upstream/multiplexedTransport.ts';
import { RetryBudget } from '../lib/upstream/retryBudget.ts';
import { STREAM_DISPATCHER, http1Transport } from '../lib/upstream/upstreamTransport.ts';
import { UpstreamError, type CallKind } from '../lib/upstream/upstreamClient.ts';

/** One GraphQL-over-HTTP POST to a supergraph gateway. */
export interface GatewayRequest {
  query: string;
  variables?: Record<string, unknown>;
  operationName?: string;
  /** Whom the call acts for; the client signs it (gateways answer nothing unsigned). */
  principal: Principal;
  /** Extra headers, e.g. the trace context. */
  headers?: Record<string, string>;
}

/** A gateway answer with a GraphQL body, or why there was none. */
export type GatewayOutcome =
  | {
      ok: true;
      result: GraphQLResponse;
      /** The answer's bytes, when it is a clean `{"data":…}` (no errors, no extensions): `result.data` is then parsed lazily. */
      raw?: string;
      status: number;
      attempts: number;
    }
  | { ok: false; failure: UpstreamFailure; detail: string };

/** An answer handed on as its bytes arrive (the gateway said it is `{"data":…}` and nothing else), or any other outcome. */
export type PassOutcome = GatewayOutcome | { ok: true; passed: Readable; status: number; attempts: number };

export interface ExecuteOptions {
  /** What the call may be sent again after (upstreamClient.ts): a query, an idempotent write, or another write. @default "query" */
  kind?: CallKind;
}

export interface SubscribeOptions {
  /** Resume after this event (the client's `Last-Event-ID`). */
  lastEventId?: string;
  /** Whether a first opening that may have reached an instance can go to another (eventStream.ts). @default "write" */
  kind?: CallKind;
  /** Aborts the stream (the client went away). */
  signal: AbortSignal;
}

/** The router's view of one supergraph's gateways; the instance choice stays behind it. */
export interface GatewayClient {
  readonly supergraph: SupergraphName;
  /**
   * Sends an operation. Resolves with a failure outcome instead of rejecting; rejects only when
   * `signal` was aborted for a reason other than a timeout (the client went away).
   */
  execute(request: GatewayRequest, signal: AbortSignal, options?: ExecuteOptions): Promise<GatewayOutcome>;
  /**
   * Sends an operation whose clean answer the caller hands on as it arrives (`passed`), never held
   * whole here; an answer with errors or extensions is read and parsed as `execute` would. Optional:
   * without it the router sends the answer on once it has it whole.
   */
  pass?(request: GatewayRequest, signal: AbortSignal, options?: ExecuteOptions): Promise<PassOutcome>;
  /**
   * Opens a subscription on one gateway instance over SSE; its events survive that instance (the
   * stream is resumed on another after the last event id). Rejects with an UpstreamError when no
   * instance can open it. Optional: fakes in tests that never subscribe leave it out.
   */
  subscribe?(request: GatewayRequest, options: SubscribeOptions): Promise<AsyncGenerator<StreamEvent | Interrupted>>;
  /** Epoch ms of the last well-formed GraphQL answer from any instance, if any. */
  lastAnsweredAt(): number | undefined;
  /** Waits for in-flight calls, then closes the connections; idempotent. */
  close(): Promise<void>;
}

export interface GatewayClientOptions {
  supergraph: SupergraphName;
  /** Gateway instance URLs (a `dns+` URL expands to every address of its name). */
  urls: readonly string[];
  /** Pool, health check, breaker and retry settings. @default the config defaults */
  resilience?: Config['resilience'];
  /** Deadline of one attempt; the caller's signal bounds the whole call. @default 10000 */
  attemptTimeoutMs?: number;
  /** Signs the principal of every call (`x-internal-principal`). */
  internalSecret: string;
  /** @default a keep-alive undici Agent owned by this client */
  dispatcher?: Dispatcher;
  /** @default Date.now */
  now?: () => number;
}

/**
 * The router's client for one supergraph's gateway instances: a replica pool (power of two choices,
 * health checks, outlier ejection), a circuit breaker and budgeted retries for queries, shared with
 * the gateways' subgraph calls through lib/upstream.ts.
 */
export function createGatewayClient(options: GatewayClientOptions): GatewayClient & { readonly upstream: Upstream } {
  const { supergraph, now = Date.now } = options;
  if (options.urls.length === 0) throw new Error(`no gateway URL for the ${supergraph} supergraph`);
  const resilience = options.resilience ?? loadConfig({}).resilience;
  const dispatcher = options.dispatcher ?? new Agent({ keepAliveTimeout: 30_000, connections: 128, allowH2: true });
  // HTTP/2 to every gateway instance that speaks it (ours do): calls and client streams share a few connections.
  const http1 = http1Transport(dispatcher, STREAM_DISPATCHER);
  const transport = resilience.upstreamProtocol === 'http1' ? http1 : multiplexedTransport({ http1 });
  const upstream = createUpstream({
    name: supergraph,
    urls: [...options.urls],
    resilience,
    timeoutMs: options.attemptTimeoutMs ?? 10_000,
    // A gateway's answer may include its own subgraph deadlines: the router's floor sits above them.
    adaptiveDeadlineFloorMs: resilience.tailLatency.gatewayAdaptiveDeadlineFloorMs,
    dispatcher,
    transport,
    retryBudget: new RetryBudget({ ratio: resilience.retryBudgetRatio }),
    // Our gateways serve /healthz (alive); the router needs no more to know an instance is up.
    healthProbe: { kind: 'path', path: '/healthz' },
  });
  let lastAnswer: number | undefined;
  let closing: Promise<void> | undefined;
  // The one place the router signs: a principal's token is reused for up to 10 s (principalSigner).
  const sign = principalSigner(options.internalSecret);

  /** One call; with `pass`, a clean answer's body is handed on as it arrives instead of read whole. */
  async function call(request: GatewayRequest, signal: AbortSignal, { kind = 'query' }: ExecuteOptions = {}, pass: boolean): Promise<PassOutcome> {
    if (closing) return { ok: false, failure: { reason: 'network', attempts: 0 }, detail: 'client closed' };
    const body = JSON.stringify({ query: request.query, variables: request.variables ?? {}, operationName: request.operationName });
    let response;
    try {
      response = await upstream.client.post(body, {
        headers: { accept: 'application/graphql-response+json, application/json;q=0.9', ...request.headers, [PRINCIPAL_HEADER]: sign(request.principal) },
        signal,
        kind,
        stream: pass,
      });
    } catch (error) {
      if (!(error instanceof UpstreamError)) throw error;
      if (error.cancelled) {
        if (isTimeout(signal)) return { ok: false, failure: { reason: 'timeout', attempts: error.attempts }, detail: 'deadline exceeded' };
        throw signal.reason ?? error;
      }
      return { ok: false, failure: error.failure, detail: error.message };
    }
    // The gateway says when its answer is `{"data":…}` and nothing else: such an answer is passed on
    // as it came, its bytes not even scanned (a gateway of another make is scanned, isCleanDataBody).
    const dataOnly = response.status === 200 && response.headers[DATA_ONLY_HEADER] === '1';
    if (response.stream && dataOnly) {
      lastAnswer = now();
      return { ok: true, passed: response.stream, status: response.status, attempts: response.attempts };
    }
    const text = response.stream ? await readText(response.stream) : response.body;
    const raw = response.status === 200 && (dataOnly || isCleanDataBody(text)) ? text : undefined;
    const result = raw !== undefined ? lazyGraphQLResponse(raw) : parseGraphQLResponse(text);
    if (!result) {
      const failure: UpstreamFailure = { reason: response.status >= 400 ? 'http_4xx' : 'bad_response', attempts: response.attempts };
      return { ok: false, failure, detail: `HTTP ${response.status} without a GraphQL body` };
    }
    lastAnswer = now();
    return { ok: true, result, raw, status: response.status, attempts: response.attempts };
  }

  return {
    supergraph,
    upstream,
    execute: (request, signal, options) => call(request, signal, options, false) as Promise<GatewayOutcome>,
    pass: (request, signal, options) => call(request, signal, options, true),
    async subscribe(request, { lastEventId, signal, kind = 'write' }) {
      const body = JSON.stringify({ query: request.query, variables: request.variables ?? {}, operationName: request.operationName });
      // Resolves once a gateway has accepted the stream: a supergraph that cannot open it rejects here, not mid-stream.
      return openResumableEvents({
        lastEventId,
        reopenUnstarted: kind !== 'write',
        open: (id, exclude) =>
          // Signed at each opening: a stream re-opened minutes later needs a token that is still alive.
          openEventStream(upstream.client, body, { headers: { ...request.headers, [PRINCIPAL_HEADER]: sign(request.principal) }, kind, lastEventId: id, exclude, signal }),
      });
    },
    lastAnsweredAt: () => lastAnswer,
    close() {
      closing ??= (async () => {
        await upstream.close();
        await transport.close();
        if (!options.dispatcher) await dispatcher.close();
      })();
      return closing;
    },
  };
}

async function readText(body: AsyncIterable<Buffer>): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of body) chunks.push(chunk);
  return Buffer.concat(chunks).toString('utf8');
}

function isTimeout(signal: AbortSignal): boolean {
  return signal.aborted && (signal.reason as { name?: string } | undefined)?.name === 'TimeoutError';
}

/** One client per supergraph of the topology, over its gateway URLs, except those `injected` (tests' fakes). */
export function createGatewayClients(config: Config, internalSecret: string, injected: Partial<Record<SupergraphName, GatewayClient>> = {}) {
  const owned: Array<ReturnType<typeof createGatewayClient>> = [];
  const gateways = Object.fromEntries(
    Object.keys(config.topology.supergraphs).map((name) => {
      if (injected[name]) return [name, injected[name]];
      const client = createGatewayClient({
        supergraph: name,
        urls: config.router.gatewayUrls[name],
        resilience: config.resilience,
        attemptTimeoutMs: config.router.gatewayTimeoutMs,
        internalSecret,
      });
      owned.push(client);
      return [name, client];
    }),
  ) as Record<SupergraphName, GatewayClient>;
  return { gateways, owned };
}
