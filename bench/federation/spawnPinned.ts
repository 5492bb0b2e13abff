import { spawn, type ChildProcess } from 'node:child_process';

export interface PinnedOptions {
  /** The CPU (`taskset -c`) the process and every thread it starts may run on. */
  cpu: number;
  /** Node flags (`--import tsx`, `--cpu-prof`, …) before the script. */
  nodeArgs?: string[];
  script: string;
  args?: string[];
  env?: Record<string, string>;
  /** How long it may take to send `{ type: 'ready' }`. @default 60000 */
  readyTimeoutMs?: number;
}

/** A child process on one CPU, started and ready. */
export interface PinnedProcess {
  name: string;
  /** The node process itself: taskset execs node, so the pid is the same. */
  pid: number;
  /** Its ready message (`port`, `urls`, …). */
  ready: Record<string, unknown>;
  /** Sends a message and resolves with the next message it sends back. */
  ask<T>(message: object): Promise<T>;
  /** SIGTERM (a clean exit, so `--cpu-prof` writes its profile), SIGKILL after 15 s; idempotent. */
  stop(): Promise<void>;
}

/** Starts a node script pinned to one CPU with an IPC channel, and waits for its ready message. */
export async function spawnPinned(name: string, options: PinnedOptions): Promise<PinnedProcess> {
  const child: ChildProcess = spawn('taskset', ['-c', String(options.cpu), process.execPath, ...(options.nodeArgs ?? []), options.script, ...(options.args ?? [])], {
    env: { ...process.env, ...options.env },
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const ready = await new Promise<Record<string, unknown>>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${name} was not ready within ${options.readyTimeoutMs ?? 60_000} ms`)), options.readyTimeoutMs ?? 60_000);
    child.once('exit', (code) => reject(new Error(`${name} exited with ${code} before it was ready`)));
    const onMessage = (message: { type?: string }) => {
      if (message?.type !== 'ready') return;
      clearTimeout(timer);
      child.off('message', onMessage);
      resolve(message as Record<string, unknown>);
    };
    child.on('message', onMessage);
  }).catch((error) => {
    child.kill('SIGKILL');
    throw error;
  });
  let stopping: Promise<void> | undefined;
  return {
    name,
    pid: child.pid!,
    ready,
    ask: <T>(message: object) =>
      new Promise<T>((resolve, reject) => {
        const onExit = () => reject(new Error(`${name} exited`));
        child.once('exit', onExit);
        child.once('message', (answer: T) => {
          child.off('exit', onExit);
          resolve(answer);
        });
        child.send(message);
      }),
    stop() {
      stopping ??= (async () => {
        if (child.exitCode !== null || child.signalCode !== null) return;
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
        await exited;
        clearTimeout(timer);
      })();
      return stopping;
    },
  };
}
