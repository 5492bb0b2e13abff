import type { Stack } from '../scripts/launchStack.ts';
import { readGatewayMetrics } from '../test/support/gatewayMetrics.ts';

/** Subgraph calls and hedges of both gateways, from their /metrics. */
export interface HedgingCounts {
  /** Every subgraph attempt sent (first attempts, hedges and retries). */
  calls: number;
  hedges: number;
  won: number;
}

/**
 * The extra subgraph load hedging adds: hedges sent over first attempts, between two snapshots of
 * the gateways' counters (upstream_replica_requests, upstream_hedges_sent_total, ..._won_total).
 */
export function hedgingLoad(stack: Stack) {
  async function snapshot(): Promise<HedgingCounts> {
    const totals: HedgingCounts = { calls: 0, hedges: 0, won: 0 };
    for (const supergraph of ['identity', 'commerce'] as const) {
      const text = await readGatewayMetrics(stack, supergraph);
      for (const line of text.split('\n')) {
        const value = Number(line.slice(line.lastIndexOf(' ') + 1));
        if (line.startsWith('upstream_replica_requests{')) totals.calls += value;
        else if (line.startsWith('upstream_hedges_sent_total{')) totals.hedges += value;
        else if (line.startsWith('upstream_hedges_won_total{')) totals.won += value;
      }
    }
    return totals;
  }
  return {
    snapshot,
    async since(before: HedgingCounts): Promise<HedgingCounts> {
      const now = await snapshot();
      return { calls: now.calls - before.calls, hedges: now.hedges - before.hedges, won: now.won - before.won };
    },
  };
}
