import type { Stack } from '../../scripts/launchStack.ts';
import { adminUrl } from './gatewayState.ts';

/** One gateway's `GET /metrics` (Prometheus text), on its admin listener like readGatewayState. */
export async function readGatewayMetrics(stack: Stack, supergraph: 'identity' | 'commerce'): Promise<string> {
  const response = await fetch(`${adminUrl(stack, `gateway-${supergraph}`)}/metrics`);
  if (!response.ok) throw new Error(`gateway-${supergraph} /metrics answered ${response.status}`);
  return response.text();
}

/** The value of `name{upstream="<upstream>",...}` in Prometheus text; undefined when absent. */
export function upstreamSample(metrics: string, name: string, upstream: string): number | undefined {
  for (const line of metrics.split('\n')) {
    if (!line.startsWith(`${name}{`) || !line.includes(`upstream="${upstream}"`)) continue;
    return Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return undefined;
}
