import type { Stack } from '../../scripts/launchStack.ts';
import { adminUrl } from './gatewayState.ts';

/** A component's `GET /metrics` (Prometheus text) on its admin listener: the router or a gateway. */
export async function readAdminMetrics(stack: Stack, component: string): Promise<string> {
  const response = await fetch(`${adminUrl(stack, component)}/metrics`);
  if (!response.ok) throw new Error(`${component} /metrics answered ${response.status}`);
  return response.text();
}

/** One gateway's `GET /metrics`, like readGatewayState. */
export function readGatewayMetrics(stack: Stack, supergraph: 'identity' | 'commerce'): Promise<string> {
  return readAdminMetrics(stack, `gateway-${supergraph}`);
}

/** The sum of every `name{...}` sample whose labels include all of `labels` (0 when none). */
export function sampleSum(metrics: string, name: string, labels: Record<string, string> = {}): number {
  const wanted = Object.entries(labels).map(([label, value]) => `${label}="${value}"`);
  let sum = 0;
  for (const line of metrics.split('\n')) {
    if (!line.startsWith(`${name}{`) || !wanted.every((pair) => line.includes(pair))) continue;
    sum += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return sum;
}

/** The value of `name{upstream="<upstream>",...}` in Prometheus text; undefined when absent. */
export function upstreamSample(metrics: string, name: string, upstream: string): number | undefined {
  for (const line of metrics.split('\n')) {
    if (!line.startsWith(`${name}{`) || !line.includes(`upstream="${upstream}"`)) continue;
    return Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return undefined;
}
