import { Counter, Gauge, type Registry } from 'prom-client';
import type { Upstream } from './createUpstream.ts';
import type { TailLatencyStats } from './tailLatency.ts';

/**
 * Hedges and adaptive deadlines per upstream, read at scrape time from each client's TailLatency
 * (one source of truth, as for the pool gauges): hedges sent, won and skipped (by reason), attempts
 * under an adapted deadline, and the hedge delay and query deadline in force now.
 */
export function registerTailLatencyMetrics(registry: Registry, upstreams: () => Record<string, Upstream>): void {
  const counter = (name: string, help: string, value: (stats: TailLatencyStats) => number) =>
    new Counter({
      name,
      help,
      labelNames: ['upstream'] as const,
      registers: [registry],
      collect() {
        this.reset();
        for (const [upstream, u] of Object.entries(upstreams())) this.inc({ upstream }, value(u.client.tail.stats()));
      },
    });
  counter('upstream_hedges_sent_total', 'Queries sent a second time to another replica because the first attempt was slow', (s) => s.hedgesSent);
  counter('upstream_hedges_won_total', 'Hedges whose answer came before the first attempt’s', (s) => s.hedgesWon);
  counter('upstream_deadlines_adapted_total', 'Attempts that ran under a deadline adapted below the fixed timeout', (s) => s.deadlinesAdapted);
  new Counter({
    name: 'upstream_hedges_skipped_total',
    help: 'Hedges due but not sent, by reason (no_live_twin, budget_spent, attempts_spent)',
    labelNames: ['upstream', 'reason'] as const,
    registers: [registry],
    collect() {
      this.reset();
      for (const [upstream, u] of Object.entries(upstreams())) {
        for (const [reason, n] of Object.entries(u.client.tail.stats().hedgesSkipped)) this.inc({ upstream, reason }, n ?? 0);
      }
    },
  });
  new Gauge({
    name: 'upstream_hedge_delay_ms',
    help: 'Current hedge delay of queries (absent while too few answers are known to hedge)',
    labelNames: ['upstream'] as const,
    registers: [registry],
    collect() {
      this.reset();
      for (const [upstream, u] of Object.entries(upstreams())) {
        const delay = u.client.tail.hedgeDelay();
        if (delay !== undefined) this.set({ upstream }, delay);
      }
    },
  });
  new Gauge({
    name: 'upstream_query_deadline_ms',
    help: 'Current deadline of one query attempt (adaptive, within the floor and the fixed timeout)',
    labelNames: ['upstream'] as const,
    registers: [registry],
    collect() {
      this.reset();
      for (const [upstream, u] of Object.entries(upstreams())) this.set({ upstream }, u.client.tail.deadlineFor(true).ms);
    },
  });
}
