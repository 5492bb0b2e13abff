import type { Registry } from 'prom-client';
import type { Config } from '../../lib/config.ts';
import type { ServerRoute } from '../../lib/server/serverRoute.ts';
import type { Upstream } from '../../lib/upstream/createUpstream.ts';
import { demoGraphiQLOptions } from '../demoGraphiQLOptions.ts';
import { operatorSnapshot } from '../operatorSnapshot.ts';
import { chatPage } from './chatPage.ts';
import { endpointIndex } from './endpointIndex.ts';
import { offlineGraphiQL } from './offlineGraphiQL.ts';
import { operatorSnapshotRoute } from './operatorSnapshotRoute.ts';

export interface RouterRoutesOptions {
  config: Config;
  /** The gateway pools, for the operator panel. */
  upstreams(): Record<string, Upstream>;
  registry: Registry;
  /** Answers CORS preflights, first of all. */
  preflight: ServerRoute;
}

/**
 * Everything the router answers besides GraphQL and health, in the order it is matched: CORS
 * preflights, the chat page for browsers at `/` (the JSON endpoint index for everyone else, or a
 * redirect to GraphiQL), the loopback-only operator panel, and GraphiQL with its assets.
 */
export function routerRoutes({ config, upstreams, registry, preflight }: RouterRoutesOptions): ServerRoute[] {
  const { router } = config;
  return [
    preflight,
    ...(router.chatPage ? [chatPage({ graphiql: router.graphiql })] : []),
    ...(router.opsPanel === 'loopback' ? [operatorSnapshotRoute({ snapshot: () => operatorSnapshot(upstreams(), registry) })] : []),
    endpointIndex({ transports: ['http', 'sse', 'graphql-ws'], browserLocation: router.graphiql ? '/graphql' : undefined }),
    ...(router.graphiql
      ? [offlineGraphiQL({ graphiql: { title: 'Supergraph router', ...(router.graphiqlDemo && config.demoApiKey ? demoGraphiQLOptions(config.demoApiKey) : {}) } })]
      : []),
  ];
}
