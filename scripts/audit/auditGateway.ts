import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawnAuditProcess, type AuditProcess } from './auditProcess.ts';

/** Which executor runs a gateway's query plans (`GATEWAY_EXECUTOR`): ours or @apollo/gateway's. */
export type GatewayExecutor = 'own' | 'apollo';

/** The name the audit's supergraph gets in its topology file (suite ids have dashes, topology names may not). */
export const AUDIT_SUPERGRAPH = 'audit';

export interface AuditGatewayOptions {
  /** The bundled entries (buildBundles()). */
  bundles: { gateway: string; router: string };
  /** A folder of its own: the topology, the supergraph and the logs are written there. */
  dir: string;
  supergraphSdl: string;
  executor: GatewayExecutor;
  /** INTERNAL_SECRET: the gateway answers only requests whose principal header it signs. */
  secret: string;
  /** Put our router in front of the gateway, and send the cases to the router. @default false */
  throughRouter?: boolean;
}

/** Our gateway (and router, when asked) serving an audit supergraph. */
export interface AuditGateway {
  /** Where cases go: the router's /graphql when there is one, else the gateway's. */
  url: string;
  /** Whether `url` is a router's: it signs principals itself, the gateway needs them signed. */
  throughRouter: boolean;
  /**
   * Rewrites the supergraph file and waits for every process's hot reload to apply it (their
   * `supergraph_reloads_total`); false when one rejected it or did not apply it within `timeoutMs`.
   */
  reload(supergraphSdl: string, timeoutMs?: number): Promise<boolean>;
  /** True when no upstream call of any of its processes ever failed: nothing in them can colour a later answer. */
  isPristine(): Promise<boolean>;
  close(): Promise<void>;
}

/**
 * Starts our gateway as `npm run gateway -- audit` would, from its bundle, on a topology file that names
 * the supergraph and nothing else: auth off, no fallbacks (an audit case must see what the subgraphs
 * said), subgraph replicas at their routing URLs, health-checked with `{ __typename }`; then, when
 * asked, our router in front of it, as `npm run router` would (rate limits off: the audit is one
 * anonymous caller sending hundreds of requests). The environment is rebuilt rather than inherited,
 * so a REDIS_URL or FALLBACK_* of the caller's cannot change the answers.
 */
export async function startAuditGateway(options: AuditGatewayOptions): Promise<AuditGateway> {
  const { bundles, dir, supergraphSdl, executor, secret, throughRouter = false } = options;
  mkdirSync(dir, { recursive: true });
  const supergraphFile = join(dir, 'supergraph.graphql');
  writeFileSync(supergraphFile, supergraphSdl);
  writeFileSync(
    join(dir, 'topology.yaml'),
    ['auth: { apiKeys: none }', 'supergraphs:', `  ${AUDIT_SUPERGRAPH}:`, '    schema: supergraph.graphql', '    fallback: none', ''].join('\n'),
  );
  const env = {
    TOPOLOGY_FILE: join(dir, 'topology.yaml'),
    INTERNAL_SECRET: secret,
    // Polled often: the next suite waits for its supergraph to be applied (reload()).
    SUPERGRAPH_HOT_RELOAD_INTERVAL_MS: '25',
    // The audit judges answers, not health checks: on a machine others load, a { __typename } probe
    // of the script's subgraphs may take over the 500 ms default, and two such in a row would take a
    // replica out (no_healthy_replica) between suites, when no real call vouches for it.
    HEALTH_CHECK_TIMEOUT_MS: '5000',
  };
  const processes: AuditProcess[] = [];
  const closeAll = () => Promise.all(processes.map((p) => p.close())).then(() => {});
  try {
    const gateway = await spawnAuditProcess({ entry: bundles.gateway, args: [AUDIT_SUPERGRAPH], env: { ...env, GATEWAY_EXECUTOR: executor }, logFile: join(dir, `gateway-${executor}.log`) });
    processes.push(gateway);
    let url = `http://127.0.0.1:${gateway.port}/graphql`;
    if (throughRouter) {
      const router = await spawnAuditProcess({
        entry: bundles.router,
        args: [],
        env: { ...env, [`${AUDIT_SUPERGRAPH.toUpperCase()}_GATEWAY_URLS`]: url, RATE_LIMIT_ENABLED: 'false', RECORD_OPERATIONS: 'off' },
        logFile: join(dir, 'router.log'),
      });
      processes.push(router);
      url = `http://127.0.0.1:${router.port}/graphql`;
    }
    return {
      url,
      throughRouter,
      async reload(sdl, timeoutMs = 10_000) {
        if (!processes.every((p) => p.alive())) return false;
        const before = await Promise.all(processes.map((p) => p.reloads()));
        // By rename, so a watcher never reads half a file.
        writeFileSync(`${supergraphFile}.next`, sdl);
        renameSync(`${supergraphFile}.next`, supergraphFile);
        for (const deadline = Date.now() + timeoutMs; Date.now() < deadline; ) {
          await new Promise((resolve) => setTimeout(resolve, 20));
          const now = await Promise.all(processes.map((p) => p.reloads()));
          if (now.some((n, i) => n.failed > before[i].failed)) return false;
          if (now.every((n, i) => n.applied > before[i].applied)) return true;
        }
        return false;
      },
      isPristine: async () => (await Promise.all(processes.map((p) => p.isPristine()))).every(Boolean),
      close: closeAll,
    };
  } catch (error) {
    await closeAll();
    throw error;
  }
}
