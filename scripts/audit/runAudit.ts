import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import type { GatewayExecutor } from './auditGateway.ts';
import { createAuditGatewayLane } from './auditGatewayLane.ts';
import { serveAuditSubgraphs } from './auditSubgraphServer.ts';
import type { AuditSuite } from './auditSuites.ts';
import { runAuditSuite, type AuditSuiteResult } from './runAuditSuite.ts';

export interface RunAuditOptions {
  suites: readonly AuditSuite[];
  executors: readonly GatewayExecutor[];
  /** The bundled entries (buildBundles()). */
  bundles: { gateway: string; router: string };
  /** A scratch folder: topologies, supergraphs and logs go under it. */
  dir: string;
  /** Suites run side by side. @default 2 */
  concurrency?: number;
  /** Carry gateways from suite to suite by hot reload (auditGatewayLane.ts). @default true */
  reuse?: boolean;
  /** Our router in front of each gateway. @default false */
  throughRouter?: boolean;
  /** Told of each suite's result as it comes. */
  onResult?(result: AuditSuiteResult): void;
}

/**
 * Runs suites on executors. The suites' subgraphs are served from one server in this process; each
 * worker takes the next suite, serves it in its slot of that server and runs it on each executor's
 * gateway in turn: one after the other, since a suite's cases may change its subgraphs' data.
 */
export async function runAudit(options: RunAuditOptions): Promise<{ results: AuditSuiteResult[]; gatewayStarts: number }> {
  const { suites, executors, bundles, dir, concurrency = 2, reuse = true, throughRouter = false, onResult } = options;
  const subgraphs = await serveAuditSubgraphs(suites);
  const secret = randomBytes(24).toString('hex');
  const results: AuditSuiteResult[] = [];
  let gatewayStarts = 0;
  const queue = [...suites];
  try {
    await Promise.all(
      Array.from({ length: Math.min(concurrency, queue.length) }, async (_, worker) => {
        const slot = subgraphs.slot(`worker-${worker}`);
        const lanes = executors.map((executor) => createAuditGatewayLane({ bundles, dir: join(dir, `worker-${worker}-${executor}`), executor, secret, reuse, throughRouter }));
        try {
          for (let suite = queue.shift(); suite; suite = queue.shift()) {
            const supergraphSdl = await slot.serve(suite).catch((error: Error) => error);
            for (const [i, executor] of executors.entries()) {
              const result = await runAuditSuite({ suite, executor, supergraphSdl, gateways: lanes[i], secret });
              results.push(result);
              onResult?.(result);
            }
          }
        } finally {
          await Promise.all(lanes.map((lane) => lane.close()));
          gatewayStarts += lanes.reduce((n, lane) => n + lane.starts, 0);
        }
      }),
    );
  } finally {
    await subgraphs.close();
  }
  return { results, gatewayStarts };
}
