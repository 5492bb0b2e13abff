import type { ReplicaState } from '../../lib/upstream/replicaPool.ts';
import type { Stack } from '../../scripts/launchStack.ts';

/** One replica as a gateway's `GET /internal/state` reports it: the pool's own view, as JSON. */
export type ReplicaStateView = ReplicaState;

/** A gateway's `GET /internal/state`. */
export interface GatewayStateView {
  supergraph: string;
  subgraphs: Record<string, { breaker: 'closed' | 'open' | 'half_open'; replicas: ReplicaStateView[] }>;
}

/** The admin listener (operator endpoints) of a component of the stack: router or gateway. */
export function adminUrl(stack: Stack, component: string): string {
  const { adminPort } = stack.get(component);
  if (adminPort === undefined) throw new Error(`${component} has no admin listener`);
  return `http://127.0.0.1:${adminPort}`;
}

/** Reads the pools and breakers of one gateway of the stack (`identity` or `commerce`), from its admin listener. */
export async function readGatewayState(stack: Stack, supergraph: 'identity' | 'commerce'): Promise<GatewayStateView> {
  const response = await fetch(`${adminUrl(stack, `gateway-${supergraph}`)}/internal/state`);
  if (!response.ok) throw new Error(`gateway-${supergraph} /internal/state answered ${response.status}`);
  return (await response.json()) as GatewayStateView;
}

/** Both gateways' replicas, flattened and keyed by replica URL. */
export async function replicasByUrl(stack: Stack): Promise<Map<string, ReplicaStateView & { subgraph: string }>> {
  const out = new Map<string, ReplicaStateView & { subgraph: string }>();
  for (const supergraph of ['identity', 'commerce'] as const) {
    const state = await readGatewayState(stack, supergraph);
    for (const [subgraph, { replicas }] of Object.entries(state.subgraphs)) {
      for (const replica of replicas) out.set(replica.url, { ...replica, subgraph });
    }
  }
  return out;
}
