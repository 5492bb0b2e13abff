import type { IncomingHttpHeaders } from 'node:http';
import { sendJson, type ServerRoute } from '../../lib/server/serverRoute.ts';
import type { OperatorSnapshot } from '../operatorSnapshot.ts';

export interface OperatorSnapshotOptions {
  snapshot(): Promise<OperatorSnapshot>;
  /** @default "/ops/state" */
  path?: string;
}

/** Headers a proxy adds: their presence means the loopback peer is a proxy relaying someone else. */
const PROXY_HEADERS = ['forwarded', 'x-forwarded-for', 'x-forwarded-host', 'x-real-ip', 'via'];

/**
 * True for a request made from the router's own host: the socket's peer is a loopback address and
 * no proxy header says it relays another client. Operator endpoints are loopback-only by design (the
 * admin listener binds 127.0.0.1); this keeps the same promise on the client-facing port.
 */
export function isLocalOperator(remoteAddress: string | undefined, headers: IncomingHttpHeaders | Headers): boolean {
  if (!remoteAddress) return false;
  const address = remoteAddress.startsWith('::ffff:') ? remoteAddress.slice(7) : remoteAddress;
  const loopback = address === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(address);
  const has = (name: string) => (headers instanceof Headers ? headers.has(name) : headers[name] !== undefined);
  return loopback && !PROXY_HEADERS.some(has);
}

/**
 * `GET /ops/state` on the client-facing port, for the chat page's live panel. The full operator
 * state lives on the admin listener (127.0.0.1:9000), another origin the page cannot read, so the
 * router answers a sanitized copy here instead. Why this is safe: it is read-only, holds names,
 * states and counters but no URL, address, key or user data (operatorSnapshot), and is answered
 * only to a loopback peer without proxy headers, so a client arriving through a load balancer,
 * an ingress or a sidecar proxy (which add X-Forwarded-For) gets the same 404 as a stranger. An
 * operator sees it through `kubectl port-forward` or an SSH tunnel, which arrive as loopback.
 * Turn it off with OPS_PANEL=off where even that is too much.
 */
export function operatorSnapshotRoute(options: OperatorSnapshotOptions): ServerRoute {
  const { snapshot, path = '/ops/state' } = options;
  return async (exchange, requestPath) => {
    if (requestPath !== path) return false;
    if (!isLocalOperator(exchange.remoteAddress, exchange.headers)) {
      exchange.send(404, { 'content-length': 0 });
      return true;
    }
    if (exchange.method !== 'GET' && exchange.method !== 'HEAD') {
      exchange.send(405, { allow: 'GET, HEAD', 'content-length': 0 });
      return true;
    }
    sendJson(exchange, 200, await snapshot(), { 'cache-control': 'no-store' });
    return true;
  };
}
