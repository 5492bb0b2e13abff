import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createYoga, type YogaServerInstance } from 'graphql-yoga';
import type { Logger } from 'pino';
import type { Config } from '../lib/config.ts';
import { componentLogger } from '../lib/logger.ts';
import { SUPERGRAPH_NAMES, type SupergraphName } from '../lib/topology.ts';
import { createApiKeyResolver } from './apiKeyResolver.ts';
import { createGatewayClient, type GatewayClient } from './gatewayClient.ts';
import { createGatewayReadiness } from './gatewayReadiness.ts';
import { loadApiSchema } from './loadApiSchema.ts';
import { useAuth } from './plugins/useAuth.ts';
import { useErrorCodes } from './plugins/useErrorCodes.ts';
import { useHealthChecks } from './plugins/useHealthChecks.ts';
import { useMaxDepth } from './plugins/useMaxDepth.ts';
import { useOperationRouting } from './plugins/useOperationRouting.ts';
import type { RouterContext } from './routerContext.ts';
import { buildRoutingTable, type RoutingTable } from './routingTable.ts';

export interface RouterOptions {
  config: Config;
  /** Signs the principal forwarded to gateways. */
  internalSecret: string;
  /** Folder of the composed `<name>.supergraph.graphql` files. @default the repository's schema/ */
  schemaDir?: string;
  /** Gateway clients by supergraph, e.g. fakes in tests; the router does not close injected ones. @default round-robin clients over config.router.gatewayUrls */
  gateways?: Partial<Record<SupergraphName, GatewayClient>>;
  /** How long close() waits for in-flight requests before cutting connections. @default 10000 */
  drainTimeoutMs?: number;
  /** @default componentLogger('router') */
  logger?: Logger;
}

export interface Router {
  /** The yoga instance; `yoga.fetch(...)` serves requests in-process without a port. */
  yoga: YogaServerInstance<Record<string, never>, RouterContext>;
  routingTable: RoutingTable;
  /** Starts the HTTP server; `port: 0` picks a free port. */
  listen(port: number, host?: string): Promise<{ url: string; port: number }>;
  /** Stops accepting, drains in-flight requests, closes gateway connections; idempotent. */
  close(): Promise<void>;
}

/** The client-facing edge router: one GraphQL endpoint in front of every supergraph gateway. */
export function createRouter(options: RouterOptions): Router {
  const { config, internalSecret, schemaDir, drainTimeoutMs = 10_000 } = options;
  const log = options.logger ?? componentLogger('router');
  const routingTable = buildRoutingTable(
    Object.fromEntries(SUPERGRAPH_NAMES.map((name) => [name, loadApiSchema(name, schemaDir)])),
  );

  const owned: GatewayClient[] = [];
  const gateways = Object.fromEntries(
    SUPERGRAPH_NAMES.map((name) => {
      const injected = options.gateways?.[name];
      if (injected) return [name, injected];
      const client = createGatewayClient({ supergraph: name, urls: config.router.gatewayUrls[name] });
      owned.push(client);
      return [name, client];
    }),
  ) as Record<SupergraphName, GatewayClient>;

  let draining = false;
  const yoga = createYoga<Record<string, never>, RouterContext>({
    schema: routingTable.schema,
    graphqlEndpoint: '/graphql',
    graphiql: { title: 'Supergraph router' },
    landingPage: false,
    maskedErrors: true,
    maxRequestBodySize: config.router.maxBodyBytes,
    logging: yogaLogger(log),
    plugins: [
      useHealthChecks({
        readiness: createGatewayReadiness({ gateways, internalSecret }),
        isDraining: () => draining,
      }),
      useErrorCodes(),
      useMaxDepth({ maxDepth: config.router.maxDepth }),
      useAuth({
        resolver: createApiKeyResolver({
          identity: gateways.identity,
          internalSecret,
          ttlMs: config.router.authCacheTtlMs,
          timeoutMs: config.router.gatewayTimeoutMs,
          logger: log,
        }),
      }),
      useOperationRouting({ routingTable, gateways, internalSecret, gatewayTimeoutMs: config.router.gatewayTimeoutMs, logger: log }),
    ],
  });

  let server: Server | undefined;
  let closing: Promise<void> | undefined;
  return {
    yoga,
    routingTable,
    async listen(port, host = config.host) {
      if (server) throw new Error('router is already listening');
      if (closing) throw new Error('router is closed');
      const http = createServer(yoga);
      server = http;
      await new Promise<void>((resolve, reject) => {
        http.once('error', reject);
        http.listen(port, host, () => {
          http.off('error', reject);
          resolve();
        });
      });
      const actual = (http.address() as AddressInfo).port;
      return { url: `http://${host.includes(':') ? `[${host}]` : host}:${actual}/graphql`, port: actual };
    },
    close() {
      closing ??= (async () => {
        draining = true;
        if (server?.listening) await drainHttpServer(server, drainTimeoutMs);
        await yoga.dispose();
        await Promise.all(owned.map((client) => client.close()));
      })();
      return closing;
    },
  };
}

/** Stops accepting, lets in-flight requests finish (up to `graceMs`), and drops idle keep-alive sockets. */
async function drainHttpServer(server: Server, graceMs: number): Promise<void> {
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  server.closeIdleConnections();
  const hardStop = setTimeout(() => server.closeAllConnections(), graceMs);
  // Connections that finish their last request while draining become idle; close them as they do.
  const sweep = setInterval(() => server.closeIdleConnections(), 100);
  try {
    await closed;
  } finally {
    clearTimeout(hardStop);
    clearInterval(sweep);
  }
}

/** Routes yoga's log calls to pino. */
function yogaLogger(log: Logger) {
  const forward = (level: 'debug' | 'info' | 'warn' | 'error') => (...args: unknown[]) => {
    const [first, ...rest] = args;
    if (first instanceof Error) log[level]({ err: first }, rest.map(String).join(' ') || first.message);
    else log[level](args.map(describe).join(' '));
  };
  return { debug: forward('debug'), info: forward('info'), warn: forward('warn'), error: forward('error') };
}

function describe(value: unknown): string {
  if (typeof value === 'string') return value;
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}
