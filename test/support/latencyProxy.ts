import { createConnection, createServer, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';

/** A TCP proxy on a free loopback port that holds back every chunk it forwards. */
export interface LatencyProxy {
  /** `host:port` of the proxy, to put in a URL in place of the target's. */
  host: string;
  port: number;
  /** Delay of each chunk, in each direction, from now on; a request/response round trip gains about 2 × ms. */
  setLatency(ms: number): void;
  /** Stops listening and cuts every open connection. Idempotent. */
  close(): Promise<void>;
}

export interface LatencyProxyOptions {
  /** Where connections go, e.g. `{ host: '127.0.0.1', port: 4141 }`. */
  target: { host: string; port: number };
  /** @default 0 */
  latencyMs?: number;
}

/**
 * Fault injection for latency: a plain node:net proxy, so it works for any protocol (HTTP keep-alive
 * included) and the upstream cannot tell. A chunk is written once it is `latencyMs` old, in arrival
 * order, so a stream is delayed without being reordered or throttled.
 */
export async function startLatencyProxy(options: LatencyProxyOptions): Promise<LatencyProxy> {
  let latencyMs = options.latencyMs ?? 0;
  const sockets = new Set<Socket>();

  const server = createServer((client) => {
    const upstream = createConnection(options.target);
    for (const socket of [client, upstream]) {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
      // Either side failing ends the pair, as a real connection would (the peer sees a reset or EOF).
      socket.on('error', () => {
        client.destroy();
        upstream.destroy();
      });
    }
    forwardDelayed(client, upstream, () => latencyMs);
    forwardDelayed(upstream, client, () => latencyMs);
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;

  let closing: Promise<void> | undefined;
  return {
    host: `127.0.0.1:${port}`,
    port,
    setLatency(ms) {
      latencyMs = ms;
    },
    close() {
      closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const socket of sockets) socket.destroy();
      });
      return closing;
    },
  };
}

/** Pipes `from` into `to`, each chunk held until it is `latency()` ms old; `to` ends after the last one. */
function forwardDelayed(from: Socket, to: Socket, latency: () => number): void {
  const queue: Array<{ due: number; chunk: Buffer | null }> = [];
  let timer: NodeJS.Timeout | undefined;

  function drain() {
    timer = undefined;
    const now = Date.now();
    while (queue.length && queue[0].due <= now) {
      const { chunk } = queue.shift()!;
      if (to.destroyed) return;
      if (chunk === null) to.end();
      else to.write(chunk);
    }
    if (queue.length) timer = setTimeout(drain, queue[0].due - now);
  }

  function push(chunk: Buffer | null) {
    // Never earlier than the chunk before it: lowering the latency must not reorder the stream.
    const due = Math.max(Date.now() + latency(), queue.at(-1)?.due ?? 0);
    queue.push({ due, chunk });
    if (!timer) drain();
  }

  from.on('data', (chunk: Buffer) => push(chunk));
  from.on('end', () => push(null));
  from.on('close', () => {
    // A clean end drains what is queued; a reset is passed on at once, dropping it, as the wire would.
    if (from.readableEnded) return;
    if (timer) clearTimeout(timer);
    queue.length = 0;
    to.destroy();
  });
}
