import { describe, expect, it } from 'vitest';
import { ConfigError, internalSecrets, listenPort, loadConfig } from '../../../lib/config.ts';

describe('loadConfig', () => {
  it('has working defaults without any environment', () => {
    const config = loadConfig({});
    expect(config.router.port).toBe(4000);
    expect(config.gateway.subgraphUrls.orders).toEqual(['http://127.0.0.1:4131/graphql', 'http://127.0.0.1:4132/graphql']);
    expect(config.fallback.subgraphs).toMatchObject({ auth: 'cache', users: 'cache', orders: 'degraded', chat: 'none' });
    expect(config.cache.redisUrl).toBeUndefined();
  });

  it('takes lists, numbers and switches from the environment', () => {
    const config = loadConfig({ ORDERS_URLS: 'http://a:1/graphql, http://b:2/graphql', RETRY_BUDGET_RATIO: '0.1', RESPONSE_CACHE: 'off' });
    expect(config.gateway.subgraphUrls.orders).toEqual(['http://a:1/graphql', 'http://b:2/graphql']);
    expect(config.resilience.retryBudgetRatio).toBe(0.1);
    expect(config.cache.responseCache).toBe('off');
    expect(() => loadConfig({ RESPONSE_CACHE: 'maybe' })).toThrow(/cache\.responseCache \(RESPONSE_CACHE\)/);
  });

  it('names the bad key and its environment variable, every one of them', () => {
    const attempt = () => loadConfig({ SUBGRAPH_TIMEOUT_MS: 'soon', ORDERS_URLS: 'http://ok:1/graphql,not a url', FALLBACK_USERS: 'maybe' });
    expect(attempt).toThrow(ConfigError);
    expect(attempt).toThrow(/gateway\.subgraphTimeoutMs \(SUBGRAPH_TIMEOUT_MS\)/);
    expect(attempt).toThrow(/gateway\.subgraphUrls\.orders\.1 \(ORDERS_URLS\): Invalid url/);
    expect(attempt).toThrow(/fallback\.subgraphs\.users \(FALLBACK_USERS\)/);
  });

  it('runs query plans on our executor unless GATEWAY_EXECUTOR says apollo, and names the variable when it says anything else', () => {
    expect(loadConfig({}).gateway.executor).toBe('own');
    expect(loadConfig({ GATEWAY_EXECUTOR: 'apollo' }).gateway.executor).toBe('apollo');
    expect(() => loadConfig({ GATEWAY_EXECUTOR: 'fast' })).toThrow(/gateway\.executor \(GATEWAY_EXECUTOR\)/);
  });

  it('refuses a subgraph timeout whose retry would outlast the router’s gateway deadline', () => {
    expect(() => loadConfig({ SUBGRAPH_TIMEOUT_MS: '6000' })).toThrow(/must stay under router\.gatewayTimeoutMs/);
    expect(loadConfig({ SUBGRAPH_TIMEOUT_MS: '6000', GATEWAY_TIMEOUT_MS: '15000' }).gateway.subgraphTimeoutMs).toBe(6000);
  });

  it('reads the server section (admin listener, request bounds) and ADMIN_PORT like PORT', () => {
    expect(loadConfig({}).server).toEqual({ adminHost: '127.0.0.1', maxJsonDepth: 32, maxDocumentNesting: 128, maxExtensionsBytes: 16_384, internalMaxBodyBytes: 2_097_152 });
    const server = loadConfig({ ADMIN_HOST: '0.0.0.0', MAX_JSON_DEPTH: '8', MAX_DOCUMENT_NESTING: '64', MAX_EXTENSIONS_BYTES: '1024', INTERNAL_MAX_BODY_BYTES: '4096' }).server;
    expect(server).toEqual({ adminHost: '0.0.0.0', maxJsonDepth: 8, maxDocumentNesting: 64, maxExtensionsBytes: 1024, internalMaxBodyBytes: 4096 });
    expect(() => loadConfig({ MAX_JSON_DEPTH: '0' })).toThrow(/server\.maxJsonDepth \(MAX_JSON_DEPTH\)/);
    expect(listenPort({ ADMIN_PORT: '9100', PORT: '4100' }, 9000, 'ADMIN_PORT')).toBe(9100);
    expect(listenPort({}, 9000, 'ADMIN_PORT')).toBe(9000);
    expect(() => listenPort({ ADMIN_PORT: '70000' }, 9000, 'ADMIN_PORT')).toThrow(/ADMIN_PORT: /);
  });

  it('reads the edge section from the environment: policies as LIMIT/WINDOW[/BURST], one plan without losing the others', () => {
    const edge = loadConfig({ RATE_LIMIT_FREE: '5/10', RATE_LIMIT_ANONYMOUS: '30/60/10', RATE_LIMIT_ENABLED: 'false', MAX_COST: '900', COST_MODE: 'dry-run' }).edge;
    expect(edge.rateLimit.enabled).toBe(false);
    expect(edge.rateLimit.plans).toEqual({
      FREE: { limit: 5, windowSeconds: 10 },
      PRO: { limit: 3000, windowSeconds: 60 },
      ENTERPRISE: { limit: 12000, windowSeconds: 60 },
    });
    expect(edge.rateLimit.anonymous).toEqual({ limit: 30, windowSeconds: 60, burst: 10 });
    expect(edge.operationLimits).toMatchObject({ maxCost: 900, costMode: 'dry-run', maxAliases: 30 });
    expect(() => loadConfig({ RATE_LIMIT_PRO: '5 per minute' })).toThrow(/edge\.rateLimit\.plans\.PRO \(RATE_LIMIT_PRO\): expected "LIMIT\/WINDOW_SECONDS/);
    expect(() => loadConfig({ RATE_LIMIT_DEFAULT_PLAN: 'GOLD' })).toThrow(/edge\.rateLimit\.defaultPlan \(RATE_LIMIT_DEFAULT_PLAN\): "GOLD" is not one of the plans/);
  });

  it('takes a previous internal secret during a rotation, verified after the current one, and never the same one', () => {
    const current = 'current-secret-0123456789';
    expect(internalSecrets(loadConfig({ INTERNAL_SECRET: current }))).toEqual([current]);
    expect(internalSecrets(loadConfig({ INTERNAL_SECRET: current, INTERNAL_SECRET_PREVIOUS: 'previous-secret-0123456789' }))).toEqual([current, 'previous-secret-0123456789']);
    expect(() => loadConfig({ INTERNAL_SECRET: current, INTERNAL_SECRET_PREVIOUS: current })).toThrow(/internalSecretPrevious \(INTERNAL_SECRET_PREVIOUS\): equals INTERNAL_SECRET/);
    expect(() => loadConfig({ INTERNAL_SECRET_PREVIOUS: 'short' })).toThrow(/INTERNAL_SECRET_PREVIOUS/);
  });

  it('reads the browser policy: no CORS origins, CSRF prevention on, GraphiQL and introspection off only in production', () => {
    expect(loadConfig({}).edge.browser).toEqual({
      corsOrigins: [],
      corsAllowCredentials: false,
      corsMaxAgeSeconds: 600,
      csrfPrevention: true,
      csrfRequestHeaders: ['x-apollo-operation-name', 'apollo-require-preflight'],
      introspection: true,
    });
    expect(loadConfig({ NODE_ENV: 'production' }).edge.browser).toMatchObject({ introspection: false });
    expect(loadConfig({ NODE_ENV: 'production' }).router.graphiql).toBe(false);
    expect(loadConfig({ NODE_ENV: 'production', GRAPHIQL: 'true' }).router.graphiql).toBe(true);
    expect(loadConfig({ NODE_ENV: 'production', GRAPHIQL: 'true' }).edge.browser).toMatchObject({ introspection: false });
    expect(loadConfig({ CORS_ORIGINS: 'https://a.example, https://b.example:8443', CSRF_REQUEST_HEADERS: 'X-Requested-With' }).edge.browser).toMatchObject({
      corsOrigins: ['https://a.example', 'https://b.example:8443'],
      csrfRequestHeaders: ['x-requested-with'],
    });
    expect(() => loadConfig({ CORS_ORIGINS: 'app.example.com' })).toThrow(/corsOrigins\.0 \(CORS_ORIGINS\): expected an origin/);
  });
});
