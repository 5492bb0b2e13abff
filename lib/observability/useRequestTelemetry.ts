import { SpanStatusCode, trace } from '@opentelemetry/api';
import { getOperationAST, type DocumentNode, type ExecutionArgs, type ExecutionResult } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import type { Logger } from 'pino';
import { ErrorCode } from '../errors.ts';
import type { RequestMetrics } from './requestMetrics.ts';
import { tracer } from './tracing.ts';

export interface RequestTelemetryOptions {
  /** Per-operation request, error and subscription metrics. @default none */
  metrics?: RequestMetrics;
  /** One JSON line per request (at `info`), with the trace id the logger adds. @default none */
  logger?: Logger;
  /** Notes every executed operation, e.g. for schema:check. @default none */
  record?(document: DocumentNode, operationName: string | null, type: 'query' | 'mutation' | 'subscription'): void;
}

/** What one request has shown so far. */
interface RequestState {
  started: number;
  /** W3C trace id of the request (the client's, when it sent a traceparent). */
  traceId: string | undefined;
  name: string | null | undefined;
  type: string;
  /** Allocated on the first error only: most requests have none. */
  errorCodes: string[] | undefined;
  fallbacks: Array<{ upstream: string; source: string }> | undefined;
}

const NO_CODES: readonly string[] = [];

/**
 * Measures each GraphQL request once and tells the metrics, the request log and the operation
 * recorder; adds `graphql.parse` / `graphql.validate` spans under the request's server span when the
 * trace is recorded (nothing is allocated for them otherwise). Requests are keyed by their Request
 * object in a WeakMap, so nothing outlives them.
 */
export function useRequestTelemetry({ metrics, logger, record }: RequestTelemetryOptions): Plugin {
  const states = new WeakMap<Request, RequestState>();
  const stateOf = (request: Request | undefined) => (request ? states.get(request) : undefined);
  const operationOf = (args: ExecutionArgs) => {
    const operation = getOperationAST(args.document, args.operationName);
    const state = stateOf((args.contextValue as { request?: Request } | undefined)?.request);
    const name = operation?.name?.value ?? null;
    if (state && operation) {
      state.name = name;
      state.type = operation.operation;
      trace.getActiveSpan()?.updateName(`${operation.operation} ${name ?? '(anonymous)'}`);
    }
    if (operation) record?.(args.document, name, operation.operation);
    return { name, type: operation?.operation };
  };
  const childSpan = (name: string) => (trace.getActiveSpan()?.isRecording() ? tracer.startSpan(name) : undefined);

  return {
    onRequest({ request }) {
      const traceId = logger?.isLevelEnabled('info') ? trace.getActiveSpan()?.spanContext().traceId : undefined;
      states.set(request, { started: performance.now(), traceId, name: undefined, type: 'unknown', errorCodes: undefined, fallbacks: undefined });
    },
    onParams({ request, params }) {
      const state = states.get(request);
      if (state && params.operationName) state.name = params.operationName;
    },
    onParse({ context }) {
      const span = childSpan('graphql.parse');
      const { request, params } = context as { request?: Request; params?: { operationName?: string } };
      return ({ result }) => {
        if (span) endSpan(span, result instanceof Error);
        // Named now, so a request refused at validation (depth, cost, unknown field) is counted under its operation.
        const state = stateOf(request);
        if (state && result && !(result instanceof Error)) {
          const operation = getOperationAST(result as DocumentNode, params?.operationName);
          if (operation) {
            state.name = operation.name?.value ?? null;
            state.type = operation.operation;
          }
        }
      };
    },
    onValidate() {
      const span = childSpan('graphql.validate');
      return span && (({ valid }) => endSpan(span, !valid));
    },
    onExecute({ args }) {
      operationOf(args);
    },
    onSubscribe({ args }) {
      const { name } = operationOf(args);
      if (!metrics) return;
      return {
        onSubscribeResult({ result }) {
          if (!(Symbol.asyncIterator in (result as object))) return;
          metrics.subscriptionOpened(name);
          return { onNext: () => metrics.subscriptionEvent(name), onEnd: () => metrics.subscriptionClosed(name) };
        },
      };
    },
    onResultProcess({ request, result }) {
      const state = states.get(request);
      if (!state || Symbol.asyncIterator in (result as object)) return;
      for (const single of Array.isArray(result) ? result : [result as ExecutionResult]) {
        for (const error of single?.errors ?? []) {
          const extensions = error.extensions as Record<string, unknown> | undefined;
          (state.errorCodes ??= []).push(typeof extensions?.code === 'string' ? extensions.code : ErrorCode.INTERNAL_SERVER_ERROR);
          const fallback = extensions?.fallback as { source?: string } | undefined;
          if (fallback?.source) {
            (state.fallbacks ??= []).push({ upstream: String(extensions?.supergraph ?? extensions?.serviceName ?? 'unknown'), source: fallback.source });
          }
        }
      }
    },
    onResponse({ request, response }) {
      const state = states.get(request);
      if (!state) return;
      states.delete(request);
      const ms = performance.now() - state.started;
      metrics?.observe(state.name, state.type, response.status, ms / 1_000, state.errorCodes ?? NO_CODES);
      // Checked first: the line's object is not even built when the level is off (LOG_LEVEL=warn).
      if (!logger?.isLevelEnabled('info')) return;
      logger.info(
        {
          ...(state.traceId ? { trace_id: state.traceId } : {}),
          operation: state.name ?? null,
          type: state.type,
          status: response.status,
          duration_ms: Math.round(ms * 10) / 10,
          ...(state.errorCodes ? { errors: state.errorCodes } : {}),
          ...(state.fallbacks ? { fallbacks: state.fallbacks } : {}),
        },
        'request',
      );
    },
  };
}

function endSpan(span: ReturnType<typeof tracer.startSpan>, failed: boolean): void {
  if (failed) span.setStatus({ code: SpanStatusCode.ERROR });
  span.end();
}
