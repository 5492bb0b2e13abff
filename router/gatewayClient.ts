import { Pool } from 'undici';
import type { FailureReason } from '../lib/errors.ts';
import type { SupergraphName } from '../lib/topology.ts';
import type { GatewayResult } from './mergeResults.ts';

/** One GraphQL-over-HTTP POST to a supergraph gateway. */
export interface GatewayRequest {
  query: string;
  variables?: Record<string, unknown>;
  operationName?: string;
  /** Extra headers, e.g. the signed principal. */
  headers?: Record<string, string>;
}

/** A gateway answer with a GraphQL body, or why there was none. */
export type GatewayOutcome =
  | { ok: true; result: GatewayResult; status: number; attempts: number }
  | { ok: false; reason: FailureReason; attempts: number; detail: string };

export interface ExecuteOptions {
  /**
   * Whether the request may be sent twice (queries). Non-idempotent requests (mutations) are only
   * retried when the connection was refused, i.e. when the first gateway surely never saw them.
   * @default true
   */
  idempotent?: boolean;
}

/** The router's view of one supergraph's gateways; the instance choice stays behind it. */
export interface GatewayClient {
  readonly supergraph: SupergraphName;
  /**
   * Sends an operation. Resolves with a failure outcome instead of rejecting; rejects only when
   * `signal` was aborted for a reason other than a timeout (the client went away).
   */
  execute(request: GatewayRequest, signal: AbortSignal, options?: ExecuteOptions): Promise<GatewayOutcome>;
  /** Epoch ms of the last well-formed GraphQL answer from any instance, if any. */
  lastAnsweredAt(): number | undefined;
  /** Waits for in-flight calls, then closes the connections; idempotent. */
  close(): Promise<void>;
}

export interface GatewayClientOptions {
  supergraph: SupergraphName;
  /** Gateway instance URLs, tried round-robin. */
  urls: readonly string[];
  /** Connections per instance. @default 64 */
  connections?: number;
  /** How long an idle keep-alive connection stays open. @default 30000 */
  keepAliveTimeoutMs?: number;
  /** @default Date.now */
  now?: () => number;
}

/** Error codes meaning the connection was never established, so nothing was sent. */
const NOT_SENT_CODES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'UND_ERR_CONNECT_TIMEOUT']);

type Attempt =
  | { ok: true; result: GatewayResult; status: number }
  | { ok: false; reason: FailureReason; detail: string; notSent: boolean };

/** A round-robin client over a supergraph's gateway instances, on undici keep-alive pools. */
export function createGatewayClient(options: GatewayClientOptions): GatewayClient {
  const { supergraph, urls, connections = 64, keepAliveTimeoutMs = 30_000, now = Date.now } = options;
  if (urls.length === 0) throw new Error(`no gateway URL for the ${supergraph} supergraph`);
  const targets = urls.map((url) => {
    const parsed = new URL(url);
    return {
      path: `${parsed.pathname}${parsed.search}`,
      pool: new Pool(parsed.origin, { connections, keepAliveTimeout: keepAliveTimeoutMs, keepAliveMaxTimeout: keepAliveTimeoutMs }),
    };
  });
  let next = 0;
  let lastAnswer: number | undefined;
  let closing: Promise<void> | undefined;

  async function attempt(target: (typeof targets)[number], body: string, headers: Record<string, string>, signal: AbortSignal): Promise<Attempt> {
    let statusCode: number;
    let text: string;
    try {
      const response = await target.pool.request({ path: target.path, method: 'POST', headers, body, signal });
      statusCode = response.statusCode;
      text = await response.body.text();
    } catch (error) {
      if (signal.aborted) throw signal.reason ?? error;
      const code = (error as { code?: string }).code ?? '';
      return { ok: false, reason: 'network', detail: `${code} ${(error as Error).message}`.trim(), notSent: NOT_SENT_CODES.has(code) };
    }
    const result = parseGraphQLBody(text);
    if (result) return { ok: true, result, status: statusCode };
    const reason: FailureReason = statusCode >= 500 ? 'http_5xx' : statusCode >= 400 ? 'http_4xx' : 'bad_response';
    return { ok: false, reason, detail: `HTTP ${statusCode} without a GraphQL body`, notSent: false };
  }

  return {
    supergraph,
    async execute(request, signal, { idempotent = true } = {}) {
      if (closing) return { ok: false, reason: 'network', attempts: 0, detail: 'client closed' };
      const body = JSON.stringify({ query: request.query, variables: request.variables ?? {}, operationName: request.operationName });
      const headers = {
        'content-type': 'application/json',
        accept: 'application/graphql-response+json, application/json;q=0.9',
        ...request.headers,
      };
      let attempts = 0;
      let last: Attempt | undefined;
      while (attempts < targets.length) {
        const target = targets[next++ % targets.length];
        attempts += 1;
        try {
          last = await attempt(target, body, headers, signal);
        } catch (error) {
          if (isTimeout(signal)) return { ok: false, reason: 'timeout', attempts, detail: 'deadline exceeded' };
          throw error;
        }
        if (last.ok) {
          lastAnswer = now();
          return { ...last, attempts };
        }
        const retryable = idempotent ? last.reason === 'network' || last.reason === 'http_5xx' : last.notSent;
        if (!retryable) break;
      }
      const failure = last as Extract<Attempt, { ok: false }>;
      return { ok: false, reason: failure.reason, attempts, detail: failure.detail };
    },
    lastAnsweredAt: () => lastAnswer,
    close() {
      closing ??= Promise.all(targets.map((t) => t.pool.close())).then(() => undefined);
      return closing;
    },
  };
}

/** A JSON object with `data` or `errors`, i.e. something a GraphQL server meant as an answer. */
function parseGraphQLBody(text: string): GatewayResult | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return undefined;
  const { data, errors } = parsed as { data?: unknown; errors?: unknown };
  const dataOk = data === undefined || data === null || (typeof data === 'object' && !Array.isArray(data));
  const errorsOk = errors === undefined || (Array.isArray(errors) && errors.every((e) => typeof e === 'object' && e !== null));
  if (!dataOk || !errorsOk || (data === undefined && errors === undefined)) return undefined;
  return { data: data as GatewayResult['data'], errors: errors as GatewayResult['errors'] };
}

function isTimeout(signal: AbortSignal): boolean {
  return signal.aborted && (signal.reason as { name?: string } | undefined)?.name === 'TimeoutError';
}
