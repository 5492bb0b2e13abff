import type { Registry } from 'prom-client';
import type { BreakerState } from '../lib/upstream/circuitBreaker.ts';
import type { Upstream } from '../lib/upstream/createUpstream.ts';

/** One gateway instance as the chat page's operator panel shows it: a name, never its URL. */
export interface ReplicaSnapshot {
  name: string;
  healthy: boolean;
  ejected: boolean;
  inFlight: number;
  errorRate: number;
  latencyMs: number;
}

/** What the router knows of one supergraph: its breaker, its gateway instances, what answered its failures. */
export interface SupergraphSnapshot {
  breaker: BreakerState;
  replicas: ReplicaSnapshot[];
  /** Failed gateway calls since start, by what answered in their place. */
  fallbacks: { cache: number; degraded: number; none: number };
}

export interface OperatorSnapshot {
  at: string;
  supergraphs: Record<string, SupergraphSnapshot>;
}

/**
 * The router's operator state (the admin listener's /internal/state and /metrics), cut down to what
 * a person watching the chat page needs and nothing that helps an attacker: replica URLs become
 * `<supergraph>-<n>` in configured order, counters stay counters.
 */
export async function operatorSnapshot(upstreams: Record<string, Upstream>, registry: Registry, now = new Date()): Promise<OperatorSnapshot> {
  const answered = (await registry.getSingleMetric('upstream_failures_answered_total')?.get())?.values ?? [];
  const supergraphs: Record<string, SupergraphSnapshot> = {};
  for (const [name, upstream] of Object.entries(upstreams)) {
    const fallbacks = { cache: 0, degraded: 0, none: 0 };
    for (const { labels, value } of answered) {
      const answer = labels.answer as keyof typeof fallbacks;
      if (labels.upstream === name && answer in fallbacks) fallbacks[answer] += value;
    }
    supergraphs[name] = {
      breaker: upstream.client.breakerState,
      replicas: upstream.pool.state().map((replica, i) => ({
        name: `${name}-${i}`,
        healthy: replica.healthy,
        ejected: replica.ejected,
        inFlight: replica.inFlight,
        errorRate: Math.round(replica.errorRate * 1000) / 1000,
        latencyMs: replica.latencyEwmaMs,
      })),
      fallbacks,
    };
  }
  return { at: now.toISOString(), supergraphs };
}
