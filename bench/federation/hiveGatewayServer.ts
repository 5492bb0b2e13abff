import { EventEmitter } from 'node:events';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createGatewayRuntime } from '@graphql-hive/gateway';

// Target (b) of the federation benchmark, a process of its own: Hive Gateway's runtime served by
// node:http, as its documentation runs it programmatically. Landing page and GraphiQL off, and both of
// its in-flight deduplications off (of identical client requests, and of identical subgraph fetches),
// so every request does its own work as at the other targets.
// Its fetches of one request share the request's AbortSignal, one listener each: this query makes 11.
EventEmitter.defaultMaxListeners = 64;
const runtime = createGatewayRuntime({
  supergraph: readFileSync(process.env.SUPERGRAPH_FILE!, 'utf8'),
  landingPage: false,
  graphiql: false,
  logging: 'error',
  inboundInflightRequestDeduplication: false,
  transportEntries: { '*.http': { options: { deduplicateInflightRequests: false } } },
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
