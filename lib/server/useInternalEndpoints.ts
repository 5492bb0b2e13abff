import { isIP } from 'node:net';
import type { Plugin } from 'graphql-yoga';
import type { Registry } from 'prom-client';

export interface InternalEndpointsOptions {
  /** Pool and breaker state of the router's upstreams (the gateways). */
  state: () => unknown;
  metrics: Registry;
  /** @default '/internal/state' */
  statePath?: string;
  /** @default '/metrics' */
  metricsPath?: string;
}

/**
 * `GET /internal/state` and `GET /metrics` for operators. The router is the one client-facing
 * service, so these answer only callers on the loopback interface (a sidecar, a local scraper);
 * anyone else gets the same 404 as any unknown path.
 */
export function useInternalEndpoints(options: InternalEndpointsOptions): Plugin<{ req?: { socket?: { remoteAddress?: string } } }> {
  const { statePath = '/internal/state', metricsPath = '/metrics' } = options;
  return {
    async onRequest({ request, url, endResponse, fetchAPI, serverContext }) {
      if (request.method !== 'GET' || (url.pathname !== statePath && url.pathname !== metricsPath)) return;
      const remote = (serverContext as { req?: { socket?: { remoteAddress?: string } } })?.req?.socket?.remoteAddress;
      if (!isLoopback(remote)) {
        endResponse(new fetchAPI.Response(null, { status: 404 }));
        return;
      }
      if (url.pathname === statePath) {
        endResponse(fetchAPI.Response.json(options.state()));
        return;
      }
      endResponse(
        new fetchAPI.Response(await options.metrics.metrics(), { headers: { 'content-type': options.metrics.contentType } }),
      );
    },
  };
}

function isLoopback(address: string | undefined): boolean {
  if (!address) return false;
  const plain = address.replace(/^::ffff:/, '');
  if (isIP(plain) === 4) return plain.startsWith('127.');
  return plain === '::1';
}
