import { spawn } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';

export interface AuditProcessOptions {
  /** A bundled component entry (dist/gateway.js, dist/router.js) and its arguments. */
  entry: string;
  args: string[];
  /** The whole environment: nothing of the caller's is inherited but PATH, HOME and TMPDIR. */
  env: Record<string, string>;
  /** Where its stdout and stderr go (appended). */
  logFile: string;
  /** @default 30000 */
  startTimeoutMs?: number;
}

/** One of our components running as a process for the audit, with its admin listener. */
export interface AuditProcess {
  port: number;
  /** Still running. */
  alive(): boolean;
  /** Its `supergraph_reloads_total` counters. */
  reloads(): Promise<{ applied: number; failed: number }>;
  /** True when no call to its upstreams (subgraphs of a gateway, gateways of a router) ever failed. */
  isPristine(): Promise<boolean>;
  /** SIGTERM, then waits for it to exit; idempotent. */
  close(): Promise<void>;
}

type UpstreamState = Record<string, { breaker: string; replicas: Array<{ healthy: boolean; ejected: boolean; failures: number }> }>;

/** Starts a bundled component on free ports (`PORT=0`, `ADMIN_PORT=0`) and waits for its ready message. */
export async function spawnAuditProcess(options: AuditProcessOptions): Promise<AuditProcess> {
  const { entry, args, env, logFile, startTimeoutMs = 30_000 } = options;
  const log = openSync(logFile, 'a');
  const child = spawn(process.execPath, [entry, ...args], {
    env: {
      PATH: process.env.PATH ?? '',
      ...(process.env.HOME ? { HOME: process.env.HOME } : {}),
      ...(process.env.TMPDIR ? { TMPDIR: process.env.TMPDIR } : {}),
      PORT: '0',
      ADMIN_PORT: '0',
      HOST: '127.0.0.1',
      LOG_LEVEL: 'warn',
      ...env,
    },
    stdio: ['ignore', log, log, 'ipc'],
  });
  closeSync(log);
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const alive = () => child.exitCode === null && child.signalCode === null;
  let timer: NodeJS.Timeout | undefined;
  let ports: { port: number; adminPort: number };
  try {
    ports = await Promise.race([
      new Promise<{ port: number; adminPort: number }>((resolve) =>
        child.on('message', (m: { type?: string; port?: number; adminPort?: number }) => m?.type === 'ready' && resolve({ port: m.port!, adminPort: m.adminPort! })),
      ),
      exited.then((code) => Promise.reject(new Error(`${entry} exited with ${code} before it was ready:\n${tail(logFile)}`))),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`${entry} was not ready within ${startTimeoutMs} ms:\n${tail(logFile)}`)), startTimeoutMs);
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
  let closing: Promise<void> | undefined;
  return {
    port: ports.port,
    alive,
    async reloads() {
      const text = await (await fetch(`${admin}/metrics`)).text();
      const count = (result: string) => Number(text.match(new RegExp(`^supergraph_reloads_total\\{[^}]*result="${result}"[^}]*\\} (\\d+)`, 'm'))?.[1] ?? 0);
      return { applied: count('applied'), failed: count('failed') };
    },
    async isPristine() {
      if (!alive()) return false;
      const state = (await (await fetch(`${admin}/internal/state`)).json()) as { subgraphs?: UpstreamState; gateways?: UpstreamState };
      return Object.values({ ...state.subgraphs, ...state.gateways }).every(
        (u) => u.breaker === 'closed' && u.replicas.every((r) => r.healthy && !r.ejected && r.failures === 0),
      );
    },
    close: () =>
      (closing ??= (async () => {
        if (alive()) child.kill('SIGTERM');
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
