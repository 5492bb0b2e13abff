import { createDeadline } from '../lib/upstream/deadline.ts';
import { SupergraphName } from '../lib/topology/loadTopology.ts';
import { ANONYMOUS } from './edge/edgeRequest.ts';
import type { GatewayClient } from './gatewayClient.ts';

/** What `/readyz` reports. */
export type ReadinessReport = {
  ready: boolean;
  supergraphs: Partial<Record<SupergraphName, 'up' | 'down'>>;
};

export interface GatewayReadinessOptions {
  gateways: Readonly<Record<SupergraphName, GatewayClient>>;
  /** A gateway that answered this recently counts as up without a probe. @default 5000 */
  recentMs?: number;
  /** Deadline of one probe. @default 1000 */
  probeTimeoutMs?: number;
  /** @default Date.now */
  now?: () => number;
}

/**
 * Ready when every supergraph has at least one gateway that answered recently or answers a
 * `{ __typename }` probe now: a router missing a whole supergraph cannot serve its fields.
 */
export function createGatewayReadiness(options: GatewayReadinessOptions): () => Promise<ReadinessReport> {
  const { gateways, recentMs = 5_000, probeTimeoutMs = 1_000, now = Date.now } = options;

  async function isUp(gateway: GatewayClient): Promise<boolean> {
    const last = gateway.lastAnsweredAt();
    if (last !== undefined && now() - last < recentMs) return true;
    const deadline = createDeadline(probeTimeoutMs);
    try {
      const outcome = await gateway.execute({ query: '{ __typename }', principal: ANONYMOUS }, deadline.signal);
      return outcome.ok;
    } catch {
      return false;
    } finally {
      deadline.dispose();
    }
  }

  return async () => {
    const entries = Object.entries(gateways) as Array<[SupergraphName, GatewayClient]>;
    const states = await Promise.all(entries.map(async ([name, gateway]) => [name, (await isUp(gateway)) ? 'up' : 'down'] as const));
    return { ready: states.every(([, state]) => state === 'up'), supergraphs: Object.fromEntries(states) };
  };
}
