import { spawn } from 'node:child_process';
import { closeSync, mkdirSync, openSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** Which executor runs a gateway's query plans (`GATEWAY_EXECUTOR`): ours or @apollo/gateway's. */
export type GatewayExecutor = 'own' | 'apollo';

/** The name the audit's supergraph gets in its topology file (suite ids have dashes, topology names may not). */
export const AUDIT_SUPERGRAPH = 'audit';

export interface AuditGatewayOptions {
  /** The bundled gateway entry (buildBundles().gateway). */
  entry: string;
  /** A folder of its own: the topology, the supergraph and the gateway's log are written there. */
  dir: string;
  supergraphSdl: string;
  executor: GatewayExecutor;
  /** INTERNAL_SECRET: the gateway answers only requests whose principal header it signs. */
  secret: string;
  /** How long the gateway may take to say it is ready. @default 30000 */
  startTimeoutMs?: number;
}

/** A running gateway process serving an audit supergraph. */
export interface AuditGateway {
  url: string;
  /** The gateway's stdout and stderr (warnings and errors). */
  logFile: string;
  /**
   * Rewrites the supergraph file and waits for the gateway's hot reload to apply it (its
   * `supergraph_reloads_total`); false when it was rejected or not applied within `timeoutMs`.
   */
  reload(supergraphSdl: string, timeoutMs?: number): Promise<boolean>;
  /** True when no subgraph call of this gateway ever failed: no breaker, ejection or failure count can colour a later answer. */
  isPristine(): Promise<boolean>;
  /** SIGTERM, then waits for it to exit; idempotent. */
  close(): Promise<void>;
}

/**
 * Starts our gateway as `npm run gateway -- audit` would, from its bundle, on a topology file that names
 * the supergraph and nothing else: auth off, no fallbacks (an audit case must see what the subgraphs
 * said), subgraph replicas at their routing URLs, health-checked with `{ __typename }`. The environment
 * is rebuilt rather than inherited, so a REDIS_URL or FALLBACK_* of the caller's cannot change answers.
 */
export async function startAuditGateway(options: AuditGatewayOptions): Promise<AuditGateway> {
  const { entry, dir, supergraphSdl, executor, secret, startTimeoutMs = 30_000 } = options;
  mkdirSync(dir, { recursive: true });
  const supergraphFile = join(dir, 'supergraph.graphql');
  writeFileSync(supergraphFile, supergraphSdl);
  writeFileSync(
    join(dir, 'topology.yaml'),
    ['auth: { apiKeys: none }', 'supergraphs:', `  ${AUDIT_SUPERGRAPH}:`, '    schema: supergraph.graphql', '    fallback: none', ''].join('\n'),
  );
  const logFile = join(dir, `gateway-${executor}.log`);
  const log = openSync(logFile, 'a');
  const child = spawn(process.execPath, [entry, AUDIT_SUPERGRAPH], {
    env: {
      PATH: process.env.PATH ?? '',
      ...(process.env.HOME ? { HOME: process.env.HOME } : {}),
      ...(process.env.TMPDIR ? { TMPDIR: process.env.TMPDIR } : {}),
      TOPOLOGY_FILE: join(dir, 'topology.yaml'),
      INTERNAL_SECRET: secret,
      GATEWAY_EXECUTOR: executor,
      PORT: '0',
      ADMIN_PORT: '0',
      HOST: '127.0.0.1',
      LOG_LEVEL: 'warn',
      // Polled often: the next suite waits for its supergraph to be applied (reload()).
      SUPERGRAPH_HOT_RELOAD_INTERVAL_MS: '25',
    },
    stdio: ['ignore', log, log, 'ipc'],
  });
  closeSync(log);
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  let timer: NodeJS.Timeout | undefined;
  let ports: { port: number; adminPort: number };
  try {
    ports = await Promise.race([
      new Promise<{ port: number; adminPort: number }>((resolve) =>
        child.on('message', (m: { type?: string; port?: number; adminPort?: number }) => m?.type === 'ready' && resolve({ port: m.port!, adminPort: m.adminPort! })),
      ),
      exited.then((code) => Promise.reject(new Error(`the gateway exited with ${code} before it was ready:\n${tail(logFile)}`))),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`the gateway was not ready within ${startTimeoutMs} ms:\n${tail(logFile)}`)), startTimeoutMs);
      }),
    ]);
  } catch (error) {
    child.kill('SIGKILL');
    await exited;
    throw error;
  } finally {
    clearTimeout(timer);
  }
  child.disconnect();
  const admin = `http://127.0.0.1:${ports.adminPort}`;
  const reloads = async () => {
    const text = await (await fetch(`${admin}/metrics`)).text();
    const count = (result: string) => Number(text.match(new RegExp(`^supergraph_reloads_total\\{[^}]*result="${result}"[^}]*\\} (\\d+)`, 'm'))?.[1] ?? 0);
    return { applied: count('applied'), failed: count('failed') };
  };
  let closing: Promise<void> | undefined;
  return {
    url: `http://127.0.0.1:${ports.port}/graphql`,
    logFile,
    async reload(sdl, timeoutMs = 10_000) {
      if (child.exitCode !== null || child.signalCode !== null) return false;
      const before = await reloads();
      // By rename, so the watcher never reads half a file.
      writeFileSync(`${supergraphFile}.next`, sdl);
      renameSync(`${supergraphFile}.next`, supergraphFile);
      for (const deadline = Date.now() + timeoutMs; Date.now() < deadline; ) {
        await new Promise((resolve) => setTimeout(resolve, 20));
        const now = await reloads();
        if (now.failed > before.failed) return false;
        if (now.applied > before.applied) return true;
      }
      return false;
    },
    async isPristine() {
      if (child.exitCode !== null || child.signalCode !== null) return false;
      const state = (await (await fetch(`${admin}/internal/state`)).json()) as {
        subgraphs: Record<string, { breaker: string; replicas: Array<{ healthy: boolean; ejected: boolean; failures: number }> }>;
      };
      return Object.values(state.subgraphs).every((s) => s.breaker === 'closed' && s.replicas.every((r) => r.healthy && !r.ejected && r.failures === 0));
    },
    close: () =>
      (closing ??= (async () => {
        if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
        await exited;
      })()),
  };
}

/** The last lines of a log, for a message. */
function tail(file: string, lines = 15): string {
  try {
    return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).map((line) => `    ${line}`).join('\n');
  } catch {
    return '    (no log)';
  }
}
