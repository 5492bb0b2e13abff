import pino, { type Logger } from 'pino';
import { loadConfig, type Config } from '../../../lib/config.ts';
import type { EdgeConfig } from '../../../lib/config/edgeConfig.ts';
import type { CacheStore } from '../../../lib/cache/cacheStore.ts';
import { SupergraphName } from '../../../lib/topology/loadTopology.ts';
import { createRouter, type Router } from '../../../router/createRouter.ts';
import type { GatewayClient, GatewayOutcome, GatewayRequest } from '../../../router/gatewayClient.ts';
import type { RateLimiter } from '../../../router/rateLimit/rateLimiter.ts';

export const EDGE_SECRET = 'edge-test-secret-0123456789';

/** API keys the scripted identity gateway knows, with their user's plan (undefined: plan unreadable) and scopes (default none). */
export const KEYS: Record<string, { userId: string; plan?: string; scopes?: string[] }> = {
  'free-key-0001': { userId: 'u3', plan: 'FREE' },
  'free-key-0002': { userId: 'u4', plan: 'FREE' },
  'pro-key-00001': { userId: 'u1', plan: 'PRO' },
  'planless-key1': { userId: 'u5' },
  'writer-key-01': { userId: 'u1', plan: 'PRO', scopes: ['orders:write', 'chat'] },
};

export function ok(data: Record<string, unknown> | null, errors?: unknown[]): GatewayOutcome {
  return { ok: true, status: 200, attempts: 1, result: { data, errors: errors as never } };
}

export interface EdgeRouter {
  router: Router;
  /** Gateway calls other than key lookups. */
  calls: Array<GatewayRequest & { supergraph: SupergraphName }>;
  /** In-process POST (no socket: anonymous callers share the address "unknown"). */
  post(body: unknown, headers?: Record<string, string>): Promise<{ status: number; headers: Headers; body: any }>;
  get(search: Record<string, string>, headers?: Record<string, string>): Promise<{ status: number; headers: Headers; body: any }>;
}

export interface EdgeRouterOptions {
  edge?: { [K in keyof EdgeConfig]?: Partial<EdgeConfig[K]> };
  rateLimiter?: RateLimiter;
  cacheStore?: CacheStore;
  config?: Config;
  logger?: Logger;
  /** What the identity gateway answers (key lookups aside). @default { me: { id: 'u1' } } */
  identity?: (request: GatewayRequest) => GatewayOutcome;
  /** What the commerce gateway answers. @default { models: [{ id: 'm1' }] } */
  commerce?: (request: GatewayRequest) => GatewayOutcome;
}

/** A router whose gateways are scripted clients (no ports), with edge settings overridden. */
export function edgeRouter(options: EdgeRouterOptions = {}): EdgeRouter {
  const base = options.config ?? loadConfig({});
  const edge = {
    rateLimit: { ...base.edge.rateLimit, ...options.edge?.rateLimit },
    operationLimits: { ...base.edge.operationLimits, ...options.edge?.operationLimits },
    persistedQueries: { ...base.edge.persistedQueries, ...options.edge?.persistedQueries },
    browser: { ...base.edge.browser, ...options.edge?.browser },
  } as EdgeConfig;
  const config: Config = { ...base, edge, cache: { ...base.cache, responseCache: 'off' } };
  const calls: EdgeRouter['calls'] = [];
  const identity: GatewayClient = {
    supergraph: 'identity',
    async execute(request) {
      if (request.operationName === 'RouterAuthenticate') {
        const key = KEYS[request.variables!.apiKey as string];
        if (!key) return ok({ _internalAuthenticate: null });
        if (!key.plan) {
          return ok({ _internalAuthenticate: { userId: key.userId, scopes: [], user: null } }, [
            { message: 'The users service is unavailable.', path: ['_internalAuthenticate', 'user'], extensions: { code: 'DOWNSTREAM_SERVICE_ERROR' } },
          ]);
        }
        return ok({ _internalAuthenticate: { userId: key.userId, scopes: key.scopes ?? [], user: { plan: key.plan } } });
      }
      calls.push({ ...request, supergraph: 'identity' });
      return options.identity?.(request) ?? ok({ me: { id: 'u1' } });
    },
    lastAnsweredAt: () => undefined,
    close: async () => {},
  };
  const commerce: GatewayClient = {
    supergraph: 'commerce',
    async execute(request) {
      calls.push({ ...request, supergraph: 'commerce' });
      return options.commerce?.(request) ?? ok({ models: [{ id: 'm1' }] });
    },
    lastAnsweredAt: () => undefined,
    close: async () => {},
  };
  const router = createRouter({
    config,
    internalSecret: EDGE_SECRET,
    gateways: { identity, commerce },
    rateLimiter: options.rateLimiter,
    cacheStore: options.cacheStore,
    logger: options.logger ?? pino({ level: 'silent' }),
  });
  const answer = async (response: Response) => {
    const text = await response.text();
    return { status: response.status, headers: response.headers, body: text ? JSON.parse(text) : undefined };
  };
  return {
    router,
    calls,
    post: async (body, headers = {}) =>
      answer(
        await router.fetch('http://router.test/graphql', {
          method: 'POST',
          headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json, application/json', ...headers },
          body: typeof body === 'string' ? body : JSON.stringify(body),
        }),
      ),
    get: async (search, headers = {}) =>
      answer(
        await router.fetch(`http://router.test/graphql?${new URLSearchParams(search)}`, {
          // A GET needs a preflight-only header (CSRF prevention), as Apollo's clients send.
          headers: { accept: 'application/graphql-response+json, application/json', 'apollo-require-preflight': 'true', ...headers },
        }),
      ),
  };
}
