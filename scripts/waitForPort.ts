import type { ChildProcess } from 'node:child_process';
import { connect } from 'node:net';

/**
 * Resolves once `host:port` accepts a TCP connection: the readiness of a child that cannot tell its
 * parent (HAProxy, redis-server). Rejects when `child` exits first or `timeoutMs` passes.
 */
export async function waitForPort(port: number, child: ChildProcess, { host = '127.0.0.1', timeoutMs = 30_000 } = {}): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`exited (code ${child.exitCode}, signal ${child.signalCode}) before listening on ${port}`);
    const open = await new Promise<boolean>((resolve) => {
      const socket = connect({ port, host });
      socket.once('connect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (open) return;
    if (Date.now() > deadline) throw new Error(`not listening on ${port} within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
