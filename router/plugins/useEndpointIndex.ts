import type { Plugin } from 'graphql-yoga';

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
export function useEndpointIndex(options: EndpointIndexOptions = {}): Plugin {
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
  return {
    onRequest({ request, url, endResponse, fetchAPI }) {
      if (url.pathname !== path) return;
      if (request.method !== 'GET' && request.method !== 'HEAD') {
        endResponse(new fetchAPI.Response(null, { status: 405, headers: { allow: 'GET, HEAD' } }));
        return;
      }
      const vary = { vary: 'accept' };
      if (browserLocation && request.headers.get('accept')?.includes('text/html')) {
        endResponse(new fetchAPI.Response(null, { status: 302, headers: { location: browserLocation, ...vary } }));
        return;
      }
      endResponse(fetchAPI.Response.json(index, { headers: vary }));
    },
  };
}
