import { SpanStatusCode, trace, type Span } from '@opentelemetry/api';
import type { DocumentNode, ExecutionResult } from 'graphql';
import type { Logger } from 'pino';
import { ErrorCode } from '../errors.ts';
import { mapEvents } from '../server/mapEvents.ts';
import type { RequestMetrics } from './requestMetrics.ts';
import { isExportingTraces, tracer, withTraceHeaders } from './tracing.ts';
import { randomHex } from './randomHex.ts';

export interface RequestTelemetryOptions {
  /** Per-operation request, error and subscription metrics. @default none */
  metrics?: RequestMetrics;
  /** One JSON line per request (at `info`), with the trace id the logger adds. @default none */
  logger?: Logger;
  /** Notes every executed operation, e.g. for schema:check. @default none */
  record?(document: DocumentNode, operationName: string | null, type: OperationType): void;
}

export type OperationType = 'query' | 'mutation' | 'subscription';

/** What a component reports about its GraphQL requests; `begin` at the start of each, with its `traceparent`. */
export interface RequestTelemetry {
  begin(traceparent?: string): RequestRecord;
}

const NO_CODES: readonly string[] = [];

/**
 * Measures each GraphQL request once and tells the metrics, the request log and the operation
 * recorder; `graphql.parse` / `graphql.validate` spans go under the request's server span only when
 * the trace is recorded (nothing is allocated for them otherwise). A request's record is a plain
 * object its stages fill in as they learn things (the operation, the errors), ended by the server
 * when the answer starts.
 */
export function createRequestTelemetry(options: RequestTelemetryOptions = {}): RequestTelemetry {
  return { begin: (traceparent) => new RequestRecord(options, traceparent) };
}

/** One request as telemetry sees it. */
export class RequestRecord {
  readonly #options: RequestTelemetryOptions;
  readonly #started = performance.now();
  /** The W3C trace context the request came with, if any. */
  readonly #traceparent: string | undefined;
  /** W3C trace id of the request (the client's, when it sent a traceparent), made when first needed. */
  #traceId: string | undefined;
  #sampled = '00';
  name: string | null | undefined;
  type = 'unknown';
  #errorCodes: string[] | undefined;
  #fallbacks: Array<{ upstream: string; source: string }> | undefined;
  #ended = false;

  constructor(options: RequestTelemetryOptions, traceparent?: string) {
    this.#options = options;
    this.#traceparent = traceparent;
  }

  /** The request's trace id: its span's when traces are exported, else the caller's, else a new one. */
  get traceId(): string {
    if (this.#traceId) return this.#traceId;
    if (isExportingTraces()) return (this.#traceId = trace.getActiveSpan()?.spanContext().traceId ?? randomHex(16));
    const match = this.#traceparent && /^[0-9a-f]{2}-([0-9a-f]{32})-[0-9a-f]{16}-([0-9a-f]{2})$/.exec(this.#traceparent.trim());
    if (match && !/^0+$/.test(match[1])) {
      this.#sampled = match[2];
      return (this.#traceId = match[1]);
    }
    return (this.#traceId = randomHex(16));
  }

  /**
   * The `traceparent` (and `tracestate`) of a call this request makes to the next tier: the active
   * span's when traces are exported; otherwise the request's trace id with a new span id, so the
   * next tier's request log carries the same trace id.
   */
  traceHeaders(): Record<string, string> {
    if (isExportingTraces()) return withTraceHeaders({});
    const traceId = this.traceId;
    return { traceparent: `00-${traceId}-${randomHex(8)}-${this.#sampled}` };
  }

  /** The operation is known: named now, so a request refused at validation is counted under it. */
  operation(name: string | null | undefined, type: OperationType | undefined): void {
    this.name = name ?? null;
    if (type) this.type = type;
  }

  /** The operation runs: recorded, and the request's span renamed after it. */
  executing(document: DocumentNode, name: string | null, type: OperationType): void {
    this.operation(name, type);
    trace.getActiveSpan()?.updateName(`${type} ${name ?? '(anonymous)'}`);
    this.#options.record?.(document, name, type);
  }

  /** A child span of the request's, when its trace is recorded. */
  span(name: string): Span | undefined {
    return trace.getActiveSpan()?.isRecording() ? tracer.startSpan(name) : undefined;
  }

  /** The errors (and fallbacks) of the single result answered. */
  result(result: ExecutionResult): void {
    for (const error of result.errors ?? []) {
      const extensions = error.extensions as Record<string, unknown> | undefined;
      (this.#errorCodes ??= []).push(typeof extensions?.code === 'string' ? extensions.code : ErrorCode.INTERNAL_SERVER_ERROR);
      const fallback = extensions?.fallback as { source?: string } | undefined;
      if (fallback?.source) (this.#fallbacks ??= []).push({ upstream: String(extensions?.supergraph ?? extensions?.serviceName ?? 'unknown'), source: fallback.source });
    }
  }

  /** Follows a subscription's events: opened now, each event counted, closed when it ends. */
  stream<T>(events: AsyncGenerator<T>): AsyncGenerator<T> {
    const metrics = this.#options.metrics;
    if (!metrics) return events;
    const name = this.name;
    metrics.subscriptionOpened(name);
    return mapEvents(
      events,
      (event) => {
        metrics.subscriptionEvent(name);
        return event;
      },
      () => metrics.subscriptionClosed(name),
    );
  }

  /** The answer started with `status`: the request is measured and logged, once. */
  answered(status: number): void {
    if (this.#ended) return;
    this.#ended = true;
    const ms = performance.now() - this.#started;
    this.#options.metrics?.observe(this.name, this.type, status, ms / 1_000, this.#errorCodes ?? NO_CODES);
    const logger = this.#options.logger;
    // Checked first: the line's object is not even built when the level is off (LOG_LEVEL=warn).
    if (!logger?.isLevelEnabled('info')) return;
    logger.info(
      {
        trace_id: this.traceId,
        operation: this.name ?? null,
        type: this.type,
        status,
        duration_ms: Math.round(ms * 10) / 10,
        ...(this.#errorCodes ? { errors: this.#errorCodes } : {}),
        ...(this.#fallbacks ? { fallbacks: this.#fallbacks } : {}),
      },
      'request',
    );
  }
}

/** Ends a child span, marked failed or not. */
export function endSpan(span: Span | undefined, failed: boolean): void {
  if (!span) return;
  if (failed) span.setStatus({ code: SpanStatusCode.ERROR });
  span.end();
}
