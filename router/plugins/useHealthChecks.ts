import type { Plugin } from 'graphql-yoga';
import type { ReadinessReport } from '../gatewayReadiness.ts';

export interface HealthCheckOptions {
  /** Whether the router can serve: every supergraph reachable, not draining. */
  readiness: () => Promise<ReadinessReport>;
  /** Whether shutdown has begun; a draining router reports not ready so balancers move on. */
  isDraining?: () => boolean;
  /** @default '/healthz' */
  livenessPath?: string;
  /** @default '/readyz' */
  readinessPath?: string;
}

/** `GET /healthz` (the process is alive) and `GET /readyz` (it can serve; 503 says which supergraph is down). */
export function useHealthChecks({
  readiness,
  isDraining = () => false,
  livenessPath = '/healthz',
  readinessPath = '/readyz',
}: HealthCheckOptions): Plugin {
  return {
    async onRequest({ request, url, endResponse, fetchAPI }) {
      if (request.method !== 'GET' && request.method !== 'HEAD') return;
      if (url.pathname === livenessPath) {
        endResponse(fetchAPI.Response.json({ status: 'ok' }));
      } else if (url.pathname === readinessPath) {
        if (isDraining()) {
          endResponse(fetchAPI.Response.json({ status: 'draining' }, { status: 503 }));
          return;
        }
        const report = await readiness();
        endResponse(
          fetchAPI.Response.json(
            { status: report.ready ? 'ready' : 'unavailable', supergraphs: report.supergraphs },
            { status: report.ready ? 200 : 503 },
          ),
        );
      }
    },
  };
}
