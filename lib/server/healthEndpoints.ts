import { methodNotAllowed, sendJson, type ServerRoute } from './serverRoute.ts';

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
 * `GET /healthz` (the process is alive) and `GET /readyz` (it can serve: 200, else 503), both JSON,
 * for every component alike, open to unsigned callers. Separate because a live process whose
 * dependencies are unreachable should leave the load balancer's rotation, not be restarted.
 */
export function healthEndpoints({ readiness, livenessPath = '/healthz', readinessPath = '/readyz' }: HealthEndpointsOptions): ServerRoute {
  return async (exchange, path) => {
    if (path !== livenessPath && path !== readinessPath) return false;
    if (exchange.method !== 'GET' && exchange.method !== 'HEAD') {
      methodNotAllowed(exchange);
      return true;
    }
    if (path === livenessPath) {
      sendJson(exchange, 200, { status: 'ok' });
      return true;
    }
    let report: Readiness;
    try {
      report = await readiness();
    } catch {
      // The reason belongs in the component's logs; probes only need the verdict.
      report = { ready: false };
    }
    const { ready, status, ...details } = report;
    sendJson(exchange, ready ? 200 : 503, { status: status ?? (ready ? 'ready' : 'unavailable'), ...details });
    return true;
  };
}
