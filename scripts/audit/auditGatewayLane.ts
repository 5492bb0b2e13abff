import { join } from 'node:path';
import { startAuditGateway, type AuditGateway, type GatewayExecutor } from './auditGateway.ts';

export interface AuditGatewayLaneOptions {
  /** The bundled entries. */
  bundles: { gateway: string; router: string };
  /** A scratch folder of the lane's own. */
  dir: string;
  executor: GatewayExecutor;
  secret: string;
  /** Switch a running gateway to the next suite by hot reload (else one process per suite). @default true */
  reuse?: boolean;
  /** Our router in front of each gateway. @default false */
  throughRouter?: boolean;
}

/** One worker's gateway for one executor, carried from suite to suite. */
export interface AuditGatewayLane {
  /** A gateway serving `supergraphSdl`; throws when none could be started with it. */
  gatewayFor(supergraphSdl: string): Promise<AuditGateway>;
  /** Gateway processes started so far. */
  readonly starts: number;
  close(): Promise<void>;
}

/**
 * Hands out gateways suite after suite. Starting a gateway process costs over a second of CPU
 * (loading @apollo/gateway, yoga, the planner), most of an audit run if paid per suite; a hot reload
 * of the next suite's supergraph costs a tenth of that. A reload is used only while the gateway is
 * pristine, no subgraph call having ever failed: its pools then hold nothing (breaker, ejection,
 * failure counts) that could change a later suite's answers, and each suite's subgraphs answer at the
 * same URLs (their worker's slot), so the pools the gateway keeps by subgraph name stay right. Anything
 * else, a rejected or slow reload included, gets a new process, as the audit's own runner does.
 */
export function createAuditGatewayLane(options: AuditGatewayLaneOptions): AuditGatewayLane {
  const { reuse = true } = options;
  let current: AuditGateway | undefined;
  let starts = 0;
  return {
    async gatewayFor(supergraphSdl) {
      if (current && reuse && (await current.isPristine()) && (await current.reload(supergraphSdl))) return current;
      await current?.close();
      current = undefined;
      starts += 1;
      current = await startAuditGateway({ ...options, dir: join(options.dir, `gateway-${starts}`), supergraphSdl });
      return current;
    },
    get starts() {
      return starts;
    },
    async close() {
      await current?.close();
    },
  };
}
