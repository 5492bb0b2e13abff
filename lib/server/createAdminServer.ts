import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { drainHttpServer } from './drainHttpServer.ts';
import { listenHttp } from './listenHttp.ts';

export interface AdminServerOptions {
  /** What `GET /internal/state` answers: pool and breaker state of the component's upstreams. */
  state: () => unknown;
  /** What `GET /metrics` answers, in Prometheus text format. */
  metrics: Registry;
  logger: Logger;
}

export interface AdminServer {
  /** Starts the admin listener; `port: 0` picks a free port. Loopback is the right host unless a scraper lives elsewhere. */
  listen(port: number, host: string): Promise<{ port: number; url: string }>;
  /** Stops it; idempotent. */
  close(): Promise<void>;
}

export const ADMIN_PATHS = { state: '/internal/state', metrics: '/metrics' } as const;

/**
 * The operator endpoints of a component on their own listener, like Envoy's admin port: the
 * client-facing listener has no route to them at all, so no proxy header (X-Forwarded-For,
 * Forwarded), dot segment (`/graphql/../internal/state`, `%2e%2e`) or Host trick can reach them
 * there, and a deployment exposes this port only to its scrapers. Plain node:http and exact path
 * matching on the raw target: no URL is parsed, so nothing here normalises `..` into a match.
 */
export function createAdminServer({ state, metrics, logger }: AdminServerOptions): AdminServer {
  let server: Server | undefined;
  let closing: Promise<void> | undefined;
  const handle = async (request: IncomingMessage, response: ServerResponse) => {
    const path = (request.url ?? '').split('?', 1)[0];
    if (path !== ADMIN_PATHS.state && path !== ADMIN_PATHS.metrics) return send(response, 404, 'application/json', '{"error":"not found"}');
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      response.setHeader('allow', 'GET, HEAD');
      return send(response, 405, 'application/json', '{"error":"method not allowed"}');
    }
    if (path === ADMIN_PATHS.state) return send(response, 200, 'application/json', JSON.stringify(state()));
    return send(response, 200, metrics.contentType, await metrics.metrics());
  };
  return {
    async listen(port, host) {
      if (server) throw new Error('admin listener is already listening');
      if (closing) throw new Error('admin listener is closed');
      server = createServer((request, response) => {
        handle(request, response).catch((error: unknown) => {
          logger.error({ err: error }, 'admin endpoint failed');
          send(response, 500, 'application/json', '{"error":"internal error"}');
        });
      });
      const bound = await listenHttp(server, port, host);
      return { port: bound.port, url: bound.url.replace(/\/graphql$/, '') };
    },
    close() {
      // Scrapes are short: a second is plenty of grace.
      closing ??= server?.listening ? drainHttpServer(server, { graceMs: 1_000 }) : Promise.resolve();
      return closing;
    },
  };
}

function send(response: ServerResponse, status: number, contentType: string, body: string): void {
  if (response.headersSent) return void response.destroy();
  response.writeHead(status, { 'content-type': contentType, 'content-length': Buffer.byteLength(body) });
  response.end(response.req.method === 'HEAD' ? undefined : body);
}
