import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { ApolloGateway } from '@apollo/gateway';
import { ApolloServer, HeaderMap } from '@apollo/server';
import { Agent } from 'undici';
import { requireInternalSecret, type Config } from '../lib/config.ts';
import { drainHttpServer } from '../lib/server/drainHttpServer.ts';
import { listenHttp } from '../lib/server/listenHttp.ts';
import { createCacheStore } from '../lib/cache/createCacheStore.ts';
import { FallbackCache } from '../lib/fallback/fallbackCache.ts';
import { isPublicError } from '../lib/errors.ts';
import { componentLogger } from '../lib/logger.ts';
import { PRINCIPAL_HEADER, verifyPrincipal } from '../lib/principal.ts';
import type { ReplicaPool } from '../lib/upstream/replicaPool.ts';
import { requestScope } from './requestScope.ts';
import { RetryBudget } from '../lib/upstream/retryBudget.ts';
import { SUPERGRAPHS, type SubgraphName, type SupergraphName } from '../lib/topology.ts';
import { createUpstream, upstreamState, type Upstream } from '../lib/upstream/createUpstream.ts';
import { createUpstreamMetrics } from '../lib/upstream/upstreamMetrics.ts';
import { ReplicaDataSource, type GatewayContext } from './replicaDataSource.ts';
import { subgraphSchema } from './subgraphSchema.ts';

export interface GatewayOptions {
  name: SupergraphName;
  config: Config;
  /** Composed supergraph SDL. @default the committed schema/<name>.supergraph.graphql */
  supergraphSdl?: string;
}

export interface RunningGateway {
  url: string;
  port: number;
  /** Replica pools by subgraph, for state and tests. */
  pools: Record<string, ReplicaPool>;
  close(): Promise<void>;
}

const MAX_BODY_BYTES = 2 * 1024 * 1024;

/** Loads a committed supergraph SDL by supergraph name. */
export function readSupergraphSdl(name: SupergraphName): string {
  return readFileSync(new URL(`../schema/${name}.supergraph.graphql`, import.meta.url), 'utf8');
}

/**
 * One supergraph gateway: @apollo/gateway behind @apollo/server, on a plain node:http server so each
 * request runs in a request scope (client cancellation reaches subgraph calls) and can be drained.
 */
export async function startGateway(options: GatewayOptions, host: string, port: number): Promise<RunningGateway> {
  const { name, config } = options;
  const internalSecret = requireInternalSecret(config);
  const log = componentLogger(`gateway-${name}`);
  const dispatcher = new Agent({ keepAliveTimeout: 30_000, connections: 256 });
  const retryBudget = new RetryBudget({ ratio: config.resilience.retryBudgetRatio });
  const upstreams: Record<string, Upstream> = {};
  for (const subgraph of SUPERGRAPHS[name] as readonly SubgraphName[]) {
    upstreams[subgraph] = createUpstream({
      name: subgraph,
      urls: config.gateway.subgraphUrls[subgraph],
      resilience: config.resilience,
      timeoutMs: config.gateway.subgraphTimeoutMs,
      dispatcher,
      retryBudget,
    });
  }
  const cacheStore = createCacheStore(config.cache, log);
  const fallbackCache = new FallbackCache(cacheStore, config.cache.fallbackTtlSeconds);
  const publicRootFields = new Set(config.fallback.publicRootFields);
  const publicEntityTypes = new Set(config.fallback.publicEntityTypes);
  const metrics = createUpstreamMetrics(`gateway-${name}`, () => upstreams);
  const pools = Object.fromEntries(Object.entries(upstreams).map(([k, u]) => [k, u.pool]));

  const gateway = new ApolloGateway({
    supergraphSdl: options.supergraphSdl ?? readSupergraphSdl(name),
    buildService: ({ name: subgraph }) => {
      const upstream = upstreams[subgraph];
      if (!upstream) throw new Error(`supergraph ${name} names subgraph ${subgraph}, which has no replica pool`);
      return new ReplicaDataSource({
        serviceName: subgraph,
        client: upstream.client,
        policy: config.fallback.subgraphs[subgraph as SubgraphName],
        fallbackCache,
        subgraphSchema: () => subgraphSchema(subgraph),
        publicRootFields,
        publicEntityTypes,
        onFailure: (answer) => metrics.countFailure(subgraph, answer),
      });
    },
  });

  const apollo = new ApolloServer<GatewayContext>({
    gateway,
    includeStacktraceInErrorResponses: false,
    // Only the router calls gateways, with JSON bodies; the browser CSRF guard has nothing to guard.
    csrfPrevention: false,
    formatError: (formatted) => {
      if (isPublicError(formatted)) return formatted;
      return { message: 'Internal server error.', path: formatted.path, extensions: { code: 'INTERNAL_SERVER_ERROR' } };
    },
    logger: { debug: () => {}, info: () => {}, warn: (m) => log.warn(m), error: (m) => log.error(m) },
  });
  await apollo.start();

  let closing: Promise<void> | undefined;
  const server = createServer((req, res) => {
    handle(req, res).catch((error) => {
      log.error({ err: error }, 'gateway request failed');
      if (!res.headersSent) sendJson(res, 500, { errors: [{ message: 'Internal server error.', extensions: { code: 'INTERNAL_SERVER_ERROR' } }] });
      else res.destroy();
    });
  });
  server.keepAliveTimeout = 65_000;

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method === 'GET' && path === '/healthz') return sendJson(res, 200, { status: 'ok' });
    if (req.method === 'GET' && path === '/readyz') {
      // Not ready while draining, so a balancer moves on before the connections close.
      return closing
        ? sendJson(res, 503, { status: 'draining', supergraph: name })
        : sendJson(res, 200, { status: 'ready', supergraph: name });
    }
    if (req.method === 'GET' && path === '/metrics') {
      res.setHeader('content-type', metrics.registry.contentType);
      return void res.end(await metrics.registry.metrics());
    }
    if (req.method === 'GET' && path === '/internal/state') {
      return sendJson(res, 200, { supergraph: name, subgraphs: upstreamState(upstreams) });
    }
    if (path !== '/graphql') return sendJson(res, 404, { errors: [{ message: 'Not found.', extensions: { code: 'NOT_FOUND' } }] });

    const controller = new AbortController();
    const onClose = () => {
      if (!res.writableFinished) controller.abort(new Error('client closed the connection'));
    };
    res.on('close', onClose);
    try {
      const raw = await readBody(req, MAX_BODY_BYTES);
      if (raw === undefined) return sendJson(res, 413, { errors: [{ message: 'Request body too large.', extensions: { code: 'BAD_REQUEST' } }] });
      let body: unknown;
      if (raw.length) {
        try {
          body = JSON.parse(raw);
        } catch {
          return sendJson(res, 400, { errors: [{ message: 'Malformed JSON body.', extensions: { code: 'BAD_REQUEST' } }] });
        }
      }
      const headers = new HeaderMap();
      for (const [key, value] of Object.entries(req.headers)) {
        if (value !== undefined) headers.set(key, Array.isArray(value) ? value.join(', ') : value);
      }
      const result = await requestScope.run({ signal: controller.signal }, () =>
        apollo.executeHTTPGraphQLRequest({
          httpGraphQLRequest: {
            method: req.method ?? 'POST',
            headers,
            search: new URL(req.url ?? '/', 'http://gateway').search,
            body,
          },
          context: async () => {
            const principalToken = req.headers[PRINCIPAL_HEADER] as string | undefined;
            return { principalToken, principal: verifyPrincipal(principalToken, internalSecret) };
          },
        }),
      );
      res.statusCode = result.status ?? 200;
      for (const [key, value] of result.headers) res.setHeader(key, value);
      if (result.body.kind === 'complete') {
        res.end(result.body.string);
      } else {
        for await (const chunk of result.body.asyncIterator) res.write(chunk);
        res.end();
      }
    } finally {
      res.off('close', onClose);
    }
  }

  const { port: actualPort, url } = await listenHttp(server, port, host);

  return {
    url,
    port: actualPort,
    pools,
    close() {
      closing ??= (async () => {
        await drainHttpServer(server);
        await apollo.stop();
        await Promise.all(Object.values(upstreams).map((u) => u.close()));
        await dispatcher.close();
        await cacheStore.close();
      })();
      return closing;
    },
  };
}

function sendJson(res: ServerResponse, status: number, value: unknown): void {
  res.statusCode = status;
  res.setHeader('content-type', 'application/json; charset=utf-8');
  res.end(JSON.stringify(value));
}

/** Reads a request body up to `limit` bytes; undefined when it is larger. */
async function readBody(req: IncomingMessage, limit: number): Promise<string | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > limit) return undefined;
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}
