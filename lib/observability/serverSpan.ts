import type { IncomingMessage, ServerResponse } from 'node:http';
import { ROOT_CONTEXT, SpanKind, SpanStatusCode, context, propagation, trace } from '@opentelemetry/api';
import { tracer } from './tracing.ts';

/**
 * Runs a request's handling inside a SERVER span continuing the caller's W3C trace (`traceparent`),
 * so every span and log line of the request, in this tier and the next, carries one trace id. Only
 * GraphQL requests: health checks would bury traces in noise. The span ends when the response closes.
 */
export function inServerSpan<T>(request: IncomingMessage, response: ServerResponse, path: string, run: () => T): T {
  if (!path.startsWith('/graphql')) return run();
  const parent = propagation.extract(ROOT_CONTEXT, request.headers);
  const span = tracer.startSpan(`${request.method ?? 'GET'} /graphql`, { kind: SpanKind.SERVER }, parent);
  if (span.isRecording()) {
    span.setAttributes({ 'http.request.method': request.method ?? 'GET', 'url.path': path, 'http.route': '/graphql' });
    response.once('close', () => {
      span.setAttribute('http.response.status_code', response.statusCode);
      if (response.statusCode >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
      span.end();
    });
  }
  return context.with(trace.setSpan(parent, span), run);
}
