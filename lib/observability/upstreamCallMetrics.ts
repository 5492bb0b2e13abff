import { Histogram, type Registry } from 'prom-client';
import { DURATION_BUCKETS } from './requestMetrics.ts';

/** How an upstream call ended: answered by the upstream, answered by a fallback, or failed. */
export type CallOutcome = 'answered' | 'fallback' | 'failed';

export interface UpstreamCallMetrics {
  /** One call to a supergraph (at the router) or a subgraph fetch (at a gateway), retries included. */
  observe(upstream: string, outcome: CallOutcome, seconds: number): void;
}

/**
 * Per-upstream call count and duration: `http_client_request_duration_seconds` after OpenTelemetry's
 * `http.client.request.duration`, labelled by upstream (supergraph or subgraph, a fixed set from the
 * topology) and outcome. Fallbacks by source are `upstream_failures_answered_total`.
 */
export function createUpstreamCallMetrics(registry: Registry): UpstreamCallMetrics {
  const duration = new Histogram({
    name: 'http_client_request_duration_seconds',
    help: 'Calls to supergraph gateways (router) and subgraph fetches (gateways), by upstream and outcome; retries included',
    labelNames: ['upstream', 'outcome'] as const,
    buckets: DURATION_BUCKETS,
    registers: [registry],
  });
  // Children by upstream, then outcome: a call looks its series up without building a key.
  const children = new Map<string, Partial<Record<CallOutcome, ReturnType<typeof duration.labels>>>>();
  return {
    observe(upstream, outcome, seconds) {
      let byOutcome = children.get(upstream);
      if (!byOutcome) children.set(upstream, (byOutcome = {}));
      (byOutcome[outcome] ??= duration.labels(upstream, outcome)).observe(seconds);
    },
  };
}
