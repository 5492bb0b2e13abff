import { trace } from '@opentelemetry/api';
import pino from 'pino';

/** One pino logger per process; components add their name as a child binding. */
export const logger = pino({
  level: process.env.LOG_LEVEL ?? 'info',
  base: { pid: process.pid },
  // Every line logged while a request is handled carries its W3C trace id, the same in all three tiers.
  mixin() {
    const span = trace.getActiveSpan();
    if (!span) return {};
    const { traceId, spanId } = span.spanContext();
    return { trace_id: traceId, span_id: spanId };
  },
});

export function componentLogger(component: string) {
  return logger.child({ component });
}
