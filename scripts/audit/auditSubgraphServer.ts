import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createServerAdapter } from '@whatwg-node/server';
import type { AuditSuite } from './auditSuites.ts';

/** The audit suites' subgraphs on one port. */
export interface AuditSubgraphServer {
  /** `http://127.0.0.1:<port>`: a suite's subgraph `name` answers at `${origin}/<suite>/<name>`. */
  origin: string;
  close(): Promise<void>;
}

/**
 * Serves every route of the given suites from one HTTP server on a free loopback port, as the audit's
 * own server does (one process, paths `/<suite>/<subgraph>`), so a run costs one listener however
 * many suites it covers.
 */
export async function serveAuditSubgraphs(suites: readonly AuditSuite[]): Promise<AuditSubgraphServer> {
  const routes = new Map(suites.flatMap((suite) => [...suite.routes]));
  const adapter = createServerAdapter(async (request: Request) => {
    const handler = routes.get(`${request.method} ${new URL(request.url).pathname}`);
    return handler ? handler(request) : new Response('not an audit route', { status: 404 });
  });
  const server = createServer(adapter);
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  let closing: Promise<void> | undefined;
  return {
    origin: `http://127.0.0.1:${port}`,
    close: () =>
      (closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        // The gateways keep their connections alive between fetches; closing must not wait for them.
        server.closeAllConnections();
      })),
  };
}
