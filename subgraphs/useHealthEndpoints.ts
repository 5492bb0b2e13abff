import type { Plugin } from 'graphql-yoga';

export interface HealthEndpointsOptions {
  /** Resolves when the component can serve (e.g. its store answers); a throw means not ready. */
  checkReady: () => Promise<void>;
  /** @default "/healthz" */
  livenessPath?: string;
  /** @default "/readyz" */
  readinessPath?: string;
}

/**
 * `GET /healthz` (the process is alive) and `GET /readyz` (it can serve: dependencies answer), both
 * JSON. Separate because a live process with an unreachable store should leave the load balancer's
 * rotation, not be restarted.
 */
export function useHealthEndpoints({ checkReady, livenessPath = '/healthz', readinessPath = '/readyz' }: HealthEndpointsOptions): Plugin {
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
      try {
        await checkReady();
        endResponse(fetchAPI.Response.json({ status: 'ready' }));
      } catch {
        // The reason stays in the logs of the caller of checkReady; probes only need the verdict.
        endResponse(fetchAPI.Response.json({ status: 'unavailable' }, { status: 503 }));
      }
    },
  };
}
