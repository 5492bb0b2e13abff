import { EventEmitter } from 'node:events';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createGatewayRuntime } from '@graphql-hive/gateway';

// Targets (b) and (f) of the federation benchmark, a process of its own: Hive Gateway's runtime served
// by node:http, as its documentation runs it programmatically; with HIVE_ROUTER_RUNTIME=1 (target f) it
// plans and executes with @graphql-hive/router-runtime (the Rust query planner), as The Guild's
// benchmark runs it. Landing page and GraphiQL off, and both of its in-flight deduplications off (of
// identical client requests, and of identical subgraph fetches), so every request does its own work
// as at the other targets.
// Its fetches of one request share the request's AbortSignal, one listener each: a query makes up to 16.
EventEmitter.defaultMaxListeners = 64;
const routerRuntime = process.env.HIVE_ROUTER_RUNTIME === '1' ? await import('@graphql-hive/router-runtime') : undefined;
const runtime = createGatewayRuntime({
  supergraph: readFileSync(process.env.SUPERGRAPH_FILE!, 'utf8'),
  landingPage: false,
  graphiql: false,
  logging: 'error',
  inboundInflightRequestDeduplication: false,
  transportEntries: { '*.http': { options: { deduplicateInflightRequests: false } } },
  ...(routerRuntime ? { unifiedGraphHandler: routerRuntime.unifiedGraphHandler } : {}),
});
const server = createServer(runtime);
server.keepAliveTimeout = 65_000;
await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));

// A clean exit on SIGTERM, so `node --cpu-prof` writes its profile.
process.on('SIGTERM', () => {
  server.closeAllConnections();
  void Promise.resolve(runtime.dispose()).finally(() => process.exit(0));
});
process.send!({ type: 'ready', port: (server.address() as AddressInfo).port });
