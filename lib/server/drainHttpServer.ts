import type { Server } from 'node:http';

export interface DrainOptions {
  /** How long in-flight requests may take to finish before their sockets are cut. @default 10000 */
  graceMs?: number;
  /** How often idle keep-alive sockets are swept while draining. @default 50 */
  sweepIntervalMs?: number;
}

/**
 * Stops an HTTP server gracefully: no new connections, in-flight requests finish, keep-alive
 * sockets close as soon as they go idle (gateways hold them open for reuse, so `server.close()`
 * alone would wait for their keep-alive timeout), and after the grace period whatever is left is cut.
 */
export function drainHttpServer(server: Server, { graceMs = 10_000, sweepIntervalMs = 50 }: DrainOptions = {}): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    if (!server.listening) {
      resolve();
      return;
    }
    const sweep = setInterval(() => server.closeIdleConnections(), sweepIntervalMs);
    const cut = setTimeout(() => server.closeAllConnections(), graceMs);
    sweep.unref();
    cut.unref();
    server.close((error) => {
      clearInterval(sweep);
      clearTimeout(cut);
      if (error) reject(error);
      else resolve();
    });
    server.closeIdleConnections();
  });
}
