import { sendJson, type ServerRoute } from '../../lib/server/serverRoute.ts';

export interface EndpointIndexOptions {
  /** @default "/graphql" */
  graphqlPath?: string;
  /** How clients may reach the GraphQL path, as the index lists them. @default ["http"] */
  transports?: string[];
  /** Where a browser opening `/` is sent; without it, browsers get the JSON too. @default undefined */
  browserLocation?: string;
  /** @default { liveness: "/healthz", readiness: "/readyz" } */
  health?: { liveness: string; readiness: string };
  /** @default "/" */
  path?: string;
}

/**
 * `GET /`: the first URL anyone opens. A browser (`Accept: text/html`) is redirected to GraphiQL;
 * anything else gets a short JSON map of the endpoints, so `curl` on the bare URL tells you where to go.
 */
export function endpointIndex(options: EndpointIndexOptions = {}): ServerRoute {
  const {
    graphqlPath = '/graphql',
    transports = ['http'],
    browserLocation,
    health = { liveness: '/healthz', readiness: '/readyz' },
    path = '/',
  } = options;
  const index = {
    graphql: { path: graphqlPath, transports, ...(browserLocation ? { graphiql: browserLocation } : {}) },
    health,
  };
  return (exchange, requestPath) => {
    if (requestPath !== path) return false;
    if (exchange.method !== 'GET' && exchange.method !== 'HEAD') {
      exchange.send(405, { allow: 'GET, HEAD', 'content-length': 0 });
      return true;
    }
    if (browserLocation && exchange.header('accept')?.includes('text/html')) {
      exchange.send(302, { location: browserLocation, vary: 'accept', 'content-length': 0 });
      return true;
    }
    sendJson(exchange, 200, index, { vary: 'accept' });
    return true;
  };
}
