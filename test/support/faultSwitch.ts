import { createServer, type IncomingMessage } from 'node:http';
import { serveOnFreePort } from './serveOnFreePort.ts';

/** An HTTP forwarder in front of one GraphQL server that a test can make fail. */
export interface FaultSwitch {
  /** Put this URL where the target's was. */
  url: string;
  /** From now on every request is answered 503 (failing) or forwarded (not). */
  setFailing(failing: boolean): void;
  /** GraphQL POSTs received so far, answered or failed (health probes not counted). */
  readonly posts: number;
  close(): Promise<void>;
}

/**
 * Fault injection for a subgraph without stopping it: requests are forwarded to `target` (POST bodies
 * and headers as they came, to the same path) until the switch is set; then every GraphQL POST is
 * answered `503` at once, as by a replica whose process is up but cannot serve (its health endpoints,
 * forwarded still, keep it in its pool: the failure is the fetches').
 */
export async function startFaultSwitch(target: string): Promise<FaultSwitch> {
  let failing = false;
  let posts = 0;
  const server = createServer(async (req, res) => {
    if (req.method === 'POST') posts += 1;
    const body = await readBody(req);
    if (failing && req.method === 'POST') {
      res.writeHead(503, { 'content-type': 'text/plain' }).end('unavailable');
      return;
    }
    const headers = Object.entries(req.headers).flatMap(([k, v]) => (typeof v === 'string' && k !== 'host' && k !== 'content-length' && k !== 'connection' ? [[k, v] as [string, string]] : []));
    try {
      const answer = await fetch(new URL(req.url ?? '/', target), { method: req.method, headers, body: req.method === 'GET' ? undefined : new Uint8Array(body) });
      const bytes = Buffer.from(await answer.arrayBuffer());
      res.writeHead(answer.status, { 'content-type': answer.headers.get('content-type') ?? 'application/json' }).end(bytes);
    } catch {
      res.writeHead(502).end();
    }
  });
  const served = await serveOnFreePort(server);
  return {
    url: served.url,
    setFailing: (value) => void (failing = value),
    get posts() {
      return posts;
    },
    close: served.close,
  };
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}
