import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import { createOperationLabels } from './operationLabels.ts';

/** Buckets of OpenTelemetry's `http.server.request.duration` advice, in seconds. */
export const DURATION_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10];

export interface RequestMetrics {
  /** One GraphQL request answered: its duration, HTTP status and error codes; an undefined name is an operation never known. */
  observe(operationName: string | null | undefined, operationType: string, status: number, seconds: number, errorCodes: readonly string[]): void;
  subscriptionOpened(operationName: string | null | undefined): void;
  subscriptionClosed(operationName: string | null | undefined): void;
  /** One event (chunk) sent down a subscription. */
  subscriptionEvent(operationName: string | null | undefined): void;
}

/**
 * Per-operation request metrics, named after OpenTelemetry's semantic conventions where one exists
 * (`http.server.request.duration` → `http_server_request_duration_seconds`, with
 * `graphql.operation.name` / `graphql.operation.type` as labels). Label children are looked up once
 * per combination and kept, so a request costs a map lookup and an observe.
 */
export function createRequestMetrics(registry: Registry, maxOperationNames = 200): RequestMetrics {
  const label = createOperationLabels(maxOperationNames);
  const duration = new Histogram({
    name: 'http_server_request_duration_seconds',
    help: 'GraphQL requests by operation: duration until the response started, and count (_count)',
    labelNames: ['graphql_operation_name', 'graphql_operation_type', 'http_response_status_code'] as const,
    buckets: DURATION_BUCKETS,
    registers: [registry],
  });
  const errors = new Counter({
    name: 'graphql_server_errors_total',
    help: 'Errors in GraphQL responses, by operation and extensions.code (refusals included: RATE_LIMITED, MAX_DEPTH_LIMIT, COST_ESTIMATED_TOO_EXPENSIVE, ...)',
    labelNames: ['graphql_operation_name', 'graphql_operation_type', 'error_code'] as const,
    registers: [registry],
  });
  const open = new Gauge({
    name: 'graphql_server_active_subscriptions',
    help: 'Subscriptions open now, by operation',
    labelNames: ['graphql_operation_name'] as const,
    registers: [registry],
  });
  const events = new Counter({
    name: 'graphql_server_subscription_events_total',
    help: 'Events (chunks) streamed to subscribers, by operation',
    labelNames: ['graphql_operation_name'] as const,
    registers: [registry],
  });
  // Children by operation, then type and status: a request looks its series up without building a key.
  const durationChildren = new Map<string, Map<string, Map<number, ReturnType<typeof duration.labels>>>>();
  const errorChildren = new Map<string, ReturnType<typeof errors.labels>>();
  return {
    observe(name, type, status, seconds, errorCodes) {
      const operation = label(name);
      let byType = durationChildren.get(operation);
      if (!byType) durationChildren.set(operation, (byType = new Map()));
      let byStatus = byType.get(type);
      if (!byStatus) byType.set(type, (byStatus = new Map()));
      let child = byStatus.get(status);
      if (!child) byStatus.set(status, (child = duration.labels(operation, type, String(status))));
      child.observe(seconds);
      for (const code of errorCodes) {
        const errorKey = `${operation}\0${type}\0${code}`;
        let counter = errorChildren.get(errorKey);
        if (!counter) errorChildren.set(errorKey, (counter = errors.labels(operation, type, code)));
        counter.inc();
      }
    },
    subscriptionOpened: (name) => open.inc({ graphql_operation_name: label(name) }),
    subscriptionClosed: (name) => open.dec({ graphql_operation_name: label(name) }),
    subscriptionEvent: (name) => events.inc({ graphql_operation_name: label(name) }),
  };
}
