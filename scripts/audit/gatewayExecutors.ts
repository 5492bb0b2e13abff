import { loadConfig } from '../../lib/config.ts';
import type { GatewayExecutor } from './auditGateway.ts';

/**
 * The executors this checkout's gateway can be switched between. Apollo's always; ours only once the
 * config knows `GATEWAY_EXECUTOR` (issue 19): before that the setting is ignored, and a run labelled
 * "own" would be Apollo's executor again.
 */
export function availableExecutors(): GatewayExecutor[] {
  const config = loadConfig({ GATEWAY_EXECUTOR: 'own' });
  return (config.gateway as Record<string, unknown>).executor === 'own' ? ['own', 'apollo'] : ['apollo'];
}
