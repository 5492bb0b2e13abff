import { SpanKind, SpanStatusCode, trace, type Span } from '@opentelemetry/api';
import { tracer } from './tracing.ts';

/**
 * Runs `run` in a CLIENT span (one call to another tier) when the request's trace is recorded; in an
 * unrecorded trace no span is made, and the caller's context (whose ids still travel in
 * `traceparent`) stays active. `run` gets the span, to add what it learns (replica, attempts, fallback).
 */
export async function inClientSpan<T>(name: string, run: (span: Span | undefined) => Promise<T>): Promise<T> {
  if (!trace.getActiveSpan()?.isRecording()) return run(undefined);
  return tracer.startActiveSpan(name, { kind: SpanKind.CLIENT }, async (span) => {
    try {
      return await run(span);
    } catch (error) {
      span.setStatus({ code: SpanStatusCode.ERROR });
      throw error;
    } finally {
      span.end();
    }
  });
}

/** Runs synchronous work (e.g. the router's query plan) in an INTERNAL span of a recorded trace. */
export function inSpan<T>(name: string, run: () => T): T {
  if (!trace.getActiveSpan()?.isRecording()) return run();
  return tracer.startActiveSpan(name, (span) => {
    try {
      return run();
    } catch (error) {
      span.setStatus({ code: SpanStatusCode.ERROR });
      throw error;
    } finally {
      span.end();
    }
  });
}
