import { createServer, type IncomingHttpHeaders } from 'node:http';
import { freePort } from '../../support/freePort.ts';
import { serveOnFreePort } from '../../support/serveOnFreePort.ts';

/** What a fake gateway saw. */
export interface SeenRequest {
  headers: IncomingHttpHeaders;
  body: { query?: string; variables?: Record<string, unknown>; operationName?: string };
}

/** What a fake gateway answers: a JSON value, or a raw body with a status, optionally late. */
export type FakeAnswer = { status?: number; json?: unknown; raw?: string; delayMs?: number };

export interface FakeGateway {
  url: string;
  seen: SeenRequest[];
  close(): Promise<void>;
}

/** A GraphQL-over-HTTP server on a free loopback port whose answers a test decides. */
export async function startFakeGateway(answer: (request: SeenRequest) => FakeAnswer | Promise<FakeAnswer>): Promise<FakeGateway> {
  const seen: SeenRequest[] = [];
  const server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const text = Buffer.concat(chunks).toString('utf8');
    const request: SeenRequest = { headers: req.headers, body: text ? JSON.parse(text) : {} };
    // The router's health probes (GET /healthz) are answered alike but not counted: on a slow machine
    // one may come before a test's first call, and `seen` is what the router sent for its callers.
    if (!req.url?.endsWith('/healthz')) seen.push(request);
    const reply = await answer(request);
    if (reply.delayMs) await new Promise((resolve) => setTimeout(resolve, reply.delayMs));
    if (res.destroyed) return;
    res.statusCode = reply.status ?? 200;
    res.setHeader('content-type', reply.raw !== undefined ? 'text/plain' : 'application/json');
    res.end(reply.raw ?? JSON.stringify(reply.json));
  });
  return { ...(await serveOnFreePort(server)), seen };
}

/** A loopback URL nothing listens on. */
export async function refusedUrl(): Promise<string> {
  return `http://127.0.0.1:${await freePort()}/graphql`;
}
