import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createServerAdapter } from '@whatwg-node/server';
import type { AuditSuite } from './auditSuites.ts';

/** A path prefix of the subgraph server whose subgraphs are those of one suite at a time. */
export interface AuditSubgraphSlot {
  /** `${server origin}/<slot>`: the suite's subgraph `name` answers at `${origin}/${name}`. */
  origin: string;
  /** From now on, the slot's subgraphs are this suite's; answers its supergraph, subgraph URLs in the slot. */
  serve(suite: AuditSuite): Promise<string>;
}

/** The audit suites' subgraphs on one port. */
export interface AuditSubgraphServer {
  /** `http://127.0.0.1:<port>`: a suite's subgraph `name` answers at `${origin}/<suite>/<name>`, as on the audit's server. */
  origin: string;
  /** The slot named `name` (made on first use). */
  slot(name: string): AuditSubgraphSlot;
  close(): Promise<void>;
}

/**
 * Serves every route of the given suites from one HTTP server on a free loopback port, as the audit's
 * own server does (one process, paths `/<suite>/<subgraph>`), so a run costs one listener however many
 * suites it covers. A slot (`/<slot>/<subgraph>`) serves whichever suite its worker runs now: a gateway
 * carried from suite to suite by hot reload then finds every suite's subgraphs at the same URLs.
 */
export async function serveAuditSubgraphs(suites: readonly AuditSuite[]): Promise<AuditSubgraphServer> {
  const routes = new Map(suites.flatMap((suite) => [...suite.routes]));
  const slots = new Map<string, AuditSuite>();
  const adapter = createServerAdapter(async (request: Request) => {
    const { pathname } = new URL(request.url);
    let handler = routes.get(`${request.method} ${pathname}`);
    const [, slot, subgraph, rest] = pathname.split('/');
    const suite = slots.get(slot);
    if (!handler && suite && subgraph && rest === undefined) handler = suite.routes.get(`${request.method} /${suite.id}/${subgraph}`);
    return handler ? handler(request) : new Response('not an audit route', { status: 404 });
  });
  const server = createServer(adapter);
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(0, '127.0.0.1', resolve));
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  let closing: Promise<void> | undefined;
  return {
    origin,
    slot(name) {
      if (routes.has(`GET /${name}/supergraph`)) throw new Error(`slot name ${name} is a suite id`);
      return {
        origin: `${origin}/${name}`,
        async serve(suite) {
          slots.set(name, suite);
          // The suite composes with URLs under its server's origin (the path is not its to keep).
          return (await suite.supergraphSdl(origin)).replaceAll(`"${origin}/${suite.id}/`, `"${origin}/${name}/`);
        },
      };
    },
    close: () =>
      (closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        // The gateways keep their connections alive between fetches; closing must not wait for them.
        server.closeAllConnections();
      })),
  };
}
