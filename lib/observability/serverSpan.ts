import { ROOT_CONTEXT, SpanKind, SpanStatusCode, context, propagation, trace } from '@opentelemetry/api';
import type { ServerExchange } from '../server/serverExchange.ts';
import { isExportingTraces, tracer } from './tracing.ts';

/**
 * Runs a request's handling inside a SERVER span continuing the caller's W3C trace (`traceparent`),
 * so every span and log line of the request, in this tier and the next, carries one trace id. Only
 * GraphQL requests: health checks would bury traces in noise. The span ends when the answer closes.
 * When nothing is exported no span is made: the request's record passes the trace on (tracing.ts).
 */
export function inServerSpan<T>(exchange: ServerExchange, path: string, run: () => T): T {
  if (!isExportingTraces() || !path.startsWith('/graphql')) return run();
  const parent = propagation.extract(ROOT_CONTEXT, exchange.headers);
  const span = tracer.startSpan(`${exchange.method} /graphql`, { kind: SpanKind.SERVER }, parent);
  if (span.isRecording()) {
    span.setAttributes({ 'http.request.method': exchange.method, 'url.path': path, 'http.route': '/graphql', 'network.protocol.name': exchange.protocol });
    exchange.onClose(() => {
      span.setAttribute('http.response.status_code', exchange.status);
      if (exchange.status >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
      span.end();
    });
  }
  return context.with(trace.setSpan(parent, span), run);
}
