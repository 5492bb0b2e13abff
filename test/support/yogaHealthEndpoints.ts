import type { Plugin } from 'graphql-yoga';

/** What `/readyz` answers: the verdict, and details for its JSON body (`status` defaults from the verdict). */
export interface Readiness {
  ready: boolean;
  status?: string;
  [detail: string]: unknown;
}

export interface HealthEndpointsOptions {
  /** Whether the component can serve (its store answers, its upstreams are reachable, it is not draining). */
  readiness: () => Promise<Readiness>;
  /** @default "/healthz" */
  livenessPath?: string;
  /** @default "/readyz" */
  readinessPath?: string;
}

/**
 * For the yoga servers the tests and benchmarks stand up as someone else's subgraphs (ours run
 * lib/server/healthEndpoints.ts): `GET /healthz` (the process is alive) and `GET /readyz` (it can serve: 200, else 503), both JSON,
 * for the router and the subgraphs alike. Separate because a live process whose dependencies are
 * unreachable should leave the load balancer's rotation, not be restarted.
 */
export function useHealthEndpoints({ readiness, livenessPath = '/healthz', readinessPath = '/readyz' }: HealthEndpointsOptions): Plugin {
  return {
    async onRequest({ url, request, endResponse, fetchAPI }) {
      if (url.pathname !== livenessPath && url.pathname !== readinessPath) return;
      if (request.method !== 'GET' && request.method !== 'HEAD') {
        endResponse(new fetchAPI.Response(null, { status: 405, headers: { allow: 'GET, HEAD' } }));
        return;
      }
      if (url.pathname === livenessPath) {
        endResponse(fetchAPI.Response.json({ status: 'ok' }));
        return;
      }
      let report: Readiness;
      try {
        report = await readiness();
      } catch {
        // The reason belongs in the component's logs; probes only need the verdict.
        report = { ready: false };
      }
      const { ready, status, ...details } = report;
      endResponse(
        fetchAPI.Response.json({ status: status ?? (ready ? 'ready' : 'unavailable'), ...details }, { status: ready ? 200 : 503 }),
      );
    },
  };
}
