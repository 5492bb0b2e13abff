import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import type { Upstream } from './createUpstream.ts';
import { registerTailLatencyMetrics } from './tailLatencyMetrics.ts';

const BREAKER_VALUE = { closed: 0, half_open: 1, open: 2 } as const;

/** How a failed upstream call was answered: the last good answer, a degraded one, or an error. */
export type FailureAnswer = 'cache' | 'degraded' | 'none';

export interface UpstreamMetrics {
  registry: Registry;
  /** Counts one failed upstream call by what answered in its place. */
  countFailure(upstream: string, answer: FailureAnswer): void;
}

/**
 * A Prometheus registry exposing the live state of upstream pools and breakers (read at scrape time
 * from the pools themselves, so there is one source of truth) and how failed calls were answered.
 */
export function createUpstreamMetrics(component: string, upstreams: () => Record<string, Upstream>): UpstreamMetrics {
  const registry = new Registry();
  registry.setDefaultLabels({ component });
  collectDefaultMetrics({ register: registry });
  const perReplica = (name: string, help: string, value: (r: ReturnType<Upstream['pool']['state']>[number]) => number) =>
    new Gauge({
      name,
      help,
      labelNames: ['upstream', 'replica'] as const,
      registers: [registry],
      collect() {
        this.reset();
        for (const [upstream, u] of Object.entries(upstreams())) {
          for (const replica of u.pool.state()) this.set({ upstream, replica: replica.url }, value(replica));
        }
      },
    });
  perReplica('upstream_replica_healthy', '1 when the last active health check passed', (r) => (r.healthy ? 1 : 0));
  perReplica('upstream_replica_ejected', '1 while outlier detection keeps the replica out', (r) => (r.ejected ? 1 : 0));
  perReplica('upstream_replica_in_flight', 'Requests sent and not yet answered', (r) => r.inFlight);
  perReplica('upstream_replica_requests', 'Requests sent since start', (r) => r.requests);
  perReplica('upstream_replica_error_rate', 'Failed share of requests since start', (r) => r.errorRate);
  new Gauge({
    name: 'upstream_breaker_state',
    help: 'Circuit breaker state: 0 closed, 1 half-open, 2 open',
    labelNames: ['upstream'] as const,
    registers: [registry],
    collect() {
      this.reset();
      for (const [upstream, u] of Object.entries(upstreams())) this.set({ upstream }, BREAKER_VALUE[u.client.breakerState]);
    },
  });
  registerTailLatencyMetrics(registry, upstreams);
  const perUpstream = (name: string, help: string, label: string, entries: (u: Upstream) => Record<string, number | undefined>) =>
    new Counter({
      name,
      help,
      labelNames: ['upstream', label] as const,
      registers: [registry],
      collect() {
        this.reset();
        for (const [upstream, u] of Object.entries(upstreams())) {
          for (const [value, n] of Object.entries(entries(u))) this.inc({ upstream, [label]: value }, n ?? 0);
        }
      },
    });
  perUpstream(
    'upstream_retries_total',
    'Calls and stream openings sent to another replica after a failure, by rule: unreached (it never reached its replica) or repeatable (a query, or an @idempotent write with its key)',
    'rule',
    (u) => u.client.retryStats().sent,
  );
  perUpstream(
    'upstream_retries_refused_total',
    'Failed calls not sent again, by reason: reached_write (a write that may have been acted on), attempts_spent, no_twin, budget_spent',
    'reason',
    (u) => u.client.retryStats().refused,
  );
  const failures = new Counter({
    name: 'upstream_failures_answered_total',
    help: 'Failed upstream calls, by what answered in their place (cache, degraded, none)',
    labelNames: ['upstream', 'answer'] as const,
    registers: [registry],
  });
  return { registry, countFailure: (upstream, answer) => failures.inc({ upstream, answer }) };
}
