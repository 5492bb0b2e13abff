import { getIntrospectionQuery } from 'graphql';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import pino from 'pino';
import { loadConfig } from '../../../lib/config.ts';
import { SupergraphName } from '../../../lib/topology/loadTopology.ts';
import { createRouter } from '../../../router/createRouter.ts';
import type { GatewayClient, GatewayOutcome, GatewayRequest } from '../../../router/gatewayClient.ts';

// In-process: router.fetch with scripted gateway clients, no ports.
const SECRET = 'router-test-secret-0123456789';
const GOOD_KEY = 'good-key-123456';

interface Call extends GatewayRequest {
  supergraph: SupergraphName;
  signal: AbortSignal;
}
const calls: Call[] = [];
const behaviour: Record<SupergraphName, (request: GatewayRequest, signal: AbortSignal) => GatewayOutcome | Promise<GatewayOutcome>> = {
  identity: () => ok({}),
  commerce: () => ok({}),
};

function ok(data: Record<string, unknown> | null, errors?: unknown[]): GatewayOutcome {
  return { ok: true, status: 200, attempts: 1, result: { data, errors: errors as never } };
}

function fake(supergraph: SupergraphName): GatewayClient {
  return {
    supergraph,
    async execute(request, signal) {
      // The router hands each call its principal; the gateway client signs it (gatewayClient.test.ts).
      calls.push({ ...request, supergraph, signal });
      return behaviour[supergraph](request, signal);
    },
    lastAnsweredAt: () => undefined,
    close: async () => {},
  };
}

/** Identity answers key lookups itself; other identity operations go to `identityFields`. */
function identityWith(identityFields: (request: GatewayRequest) => GatewayOutcome | Promise<GatewayOutcome>) {
  return (request: GatewayRequest) => {
    if (request.operationName === 'RouterAuthenticate') {
      return ok({ _internalAuthenticate: request.variables!.apiKey === GOOD_KEY ? { userId: 'u1', scopes: ['orders:write'] } : null });
    }
    return identityFields(request);
  };
}

const base = loadConfig({});
// The fresh response cache is off here: these tests watch every call reach the gateways.
const config = {
  ...base,
  // No balancer probes these routers: the /readyz test must not make close() wait the drain notice.
  router: { ...base.router, maxDepth: 5, maxBodyBytes: 4_096, gatewayTimeoutMs: 200, drainNoticeMs: 0 },
  cache: { ...base.cache, responseCache: 'off' as const },
};
const router = createRouter({
  config,
  internalSecret: SECRET,
  gateways: { identity: fake('identity'), commerce: fake('commerce') },
  logger: pino({ level: 'silent' }),
});
afterAll(() => router.close());

beforeEach(() => {
  calls.length = 0;
  behaviour.identity = identityWith(() => ok({ me: { id: 'u1' } }));
  behaviour.commerce = () => ok({ models: [{ id: 'm1' }] });
});

async function post(body: unknown, headers: Record<string, string> = {}) {
  const response = await router.fetch('http://router.test/graphql', {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json, application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, body: text ? JSON.parse(text) : undefined };
}

describe('router: hostile and invalid input', () => {
  const cases: Array<[string, unknown, number, string, Record<string, string>?]> = [
    ['malformed JSON', '{"query": "{ me { id }', 400, 'BAD_REQUEST'],
    ['an empty body', '', 400, 'BAD_REQUEST'],
    ['a body over maxBodyBytes', { query: '{ models { id } }', variables: { pad: 'x'.repeat(5_000) } }, 413, 'REQUEST_ENTITY_TOO_LARGE'],
    ['an unknown field', { query: '{ models { nope } }' }, 400, 'GRAPHQL_VALIDATION_FAILED'],
    ['a router-only field', { query: '{ _internalAuthenticate(apiKey: "k") { userId } }' }, 400, 'GRAPHQL_VALIDATION_FAILED'],
    ['a syntax error', { query: '{ models { id }' }, 400, 'GRAPHQL_PARSE_FAILED'],
    ['a wrong variable type', { query: 'query($n: Int) { articles(first: $n) { totalCount } }', variables: { n: 'three' } }, 400, 'BAD_USER_INPUT'],
    ['a missing required variable', { query: 'query($id: ID!) { article(id: $id) { id } }' }, 400, 'BAD_USER_INPUT'],
    ['an unknown operation name', { query: 'query A { models { id } }', operationName: 'B' }, 400, 'OPERATION_RESOLUTION_FAILURE'],
    ['several operations and no name', { query: 'query A { models { id } } query B { me { id } }' }, 400, 'OPERATION_RESOLUTION_FAILURE'],
    ['no query', { variables: {} }, 400, 'BAD_REQUEST'],
    ['a selection over maxDepth', { query: '{ myOrders { edges { node { lines { article { id } } } } } }' }, 400, 'MAX_DEPTH_LIMIT'],
    ['a too deep selection hidden in fragments', { query: '{ myOrders { ...C } } fragment C on OrderConnection { edges { node { lines { article { id } } } } }' }, 400, 'MAX_DEPTH_LIMIT'],
    ['a subscription without its arguments and selection', { query: 'subscription { chatStream }' }, 400, 'GRAPHQL_VALIDATION_FAILED'],
    ['an unsupported content type', 'x', 415, 'BAD_REQUEST', { 'content-type': 'application/xml' }],
    // A browser sends text/plain cross-site without a preflight: CSRF prevention answers first.
    ['a simple (text/plain) POST', 'x', 400, 'BAD_REQUEST', { 'content-type': 'text/plain' }],
    ['a batch', [{ query: '{ models { id } }' }], 400, 'BAD_REQUEST'],
  ];
  for (const [what, body, status, code, headers] of cases) {
    it(`answers ${what} with ${status} ${code} and keeps serving`, async () => {
      const result = await post(body, headers);
      expect(result.status).toBe(status);
      expect(result.body.errors?.[0]?.extensions?.code).toBe(code);
      for (const error of result.body.errors) expect(error.extensions?.code).toBeTypeOf('string');
      expect(calls).toEqual([]);
      const after = await post({ query: '{ models { id } }' });
      expect(after.body).toEqual({ data: { models: [{ id: 'm1' }] } });
    });
  }

  it('lets GraphiQL-style introspection through although it is deeper than a small maxDepth', async () => {
    const result = await post({ query: getIntrospectionQuery() });
    expect(result.status).toBe(200);
    expect(result.body.data.__schema.queryType.name).toBe('Query');
  });

  it('answers the depth limit with 400 even for Accept: application/json', async () => {
    const result = await post({ query: '{ myOrders { edges { node { lines { article { id } } } } } }' }, { accept: 'application/json' });
    expect(result.status).toBe(400);
    expect(result.body.errors[0].extensions).toEqual({ code: 'MAX_DEPTH_LIMIT', limit: 5, actual: 6 });
  });

  it('keeps internals out when a gateway client throws, and fails only its fields', async () => {
    behaviour.commerce = () => {
      throw new Error('secret internal detail at http://10.1.2.3:4002');
    };
    const result = await post({ query: '{ me { id } models { id } }' });
    expect(JSON.stringify(result.body)).not.toMatch(/secret|10\.1\.2\.3/);
    expect(result.body.data).toEqual({ me: { id: 'u1' }, models: null });
    expect(result.body.errors[0].extensions).toMatchObject({ code: 'SUPERGRAPH_UNAVAILABLE', supergraph: 'commerce' });
  });
});

describe('router: routing and merging', () => {
  it('passes a one-supergraph query through unchanged with the anonymous principal', async () => {
    const query = 'query Models { models { id } }';
    const result = await post({ query, operationName: 'Models' });
    expect(result).toEqual({ status: 200, body: { data: { models: [{ id: 'm1' }] } } });
    expect(calls).toHaveLength(1);
    expect(calls[0]).toMatchObject({ supergraph: 'commerce', query, operationName: 'Models', principal: { scopes: [] } });
  });

  it('splits a mixed query, merges in client order and answers __typename itself', async () => {
    behaviour.commerce = () => ok({ top: [{ id: 'a1' }], models: [] });
    const result = await post({ query: '{ top: topArticles { id } me { id } __typename models { id } }' });
    expect(result.status).toBe(200);
    expect(Object.keys(result.body.data)).toEqual(['top', 'me', '__typename', 'models']);
    expect(result.body.data).toEqual({ top: [{ id: 'a1' }], me: { id: 'u1' }, __typename: 'Query', models: [] });
    expect(calls.map((c) => c.supergraph).sort()).toEqual(['commerce', 'identity']);
  });

  it('keeps the answer of one supergraph when the other fails', async () => {
    behaviour.commerce = () => ({ ok: false, failure: { reason: 'network', attempts: 2 }, detail: 'ECONNREFUSED 127.0.0.1:4002' });
    const result = await post({ query: '{ me { id } articles(first: 3) { totalCount } }' });
    expect(result.status).toBe(200);
    expect(result.body.data).toEqual({ me: { id: 'u1' }, articles: null });
    expect(result.body.errors).toEqual([
      { message: 'The commerce supergraph is unavailable.', path: ['articles'], extensions: { code: 'SUPERGRAPH_UNAVAILABLE', supergraph: 'commerce', reason: 'network', attempts: 2 } },
    ]);
    expect(JSON.stringify(result.body)).not.toMatch(/127\.0\.0\.1|ECONNREFUSED/);
  });

  it('gives each gateway call a deadline of gatewayTimeoutMs', async () => {
    behaviour.commerce = (_request, signal) =>
      new Promise((resolve) => signal.addEventListener('abort', () => resolve({ ok: false, failure: { reason: 'timeout', attempts: 1 }, detail: String(signal.reason) })));
    const started = Date.now();
    const result = await post({ query: '{ me { id } models { id } }' });
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(result.body.data).toEqual({ me: { id: 'u1' }, models: null });
    expect(result.body.errors[0].extensions).toMatchObject({ code: 'GATEWAY_TIMEOUT', supergraph: 'commerce' });
    expect((calls.find((c) => c.supergraph === 'commerce')!.signal.reason as Error).name).toBe('TimeoutError');
  });

  it('relays gateway errors with their codes, without internals', async () => {
    behaviour.identity = identityWith(() =>
      ok({ me: null }, [
        { message: 'The users service is unavailable.', path: ['me'], extensions: { code: 'DOWNSTREAM_SERVICE_ERROR', serviceName: 'users', stacktrace: ['at /srv/x.ts:1:1'] } },
        { message: 'boom at http://127.0.0.1:4111', path: ['me', 'name'], extensions: { code: 'WEIRD' } },
      ]),
    );
    const result = await post({ query: '{ me { id name } }' });
    expect(result.body.errors).toEqual([
      { message: 'The users service is unavailable.', path: ['me'], extensions: { code: 'DOWNSTREAM_SERVICE_ERROR', serviceName: 'users', supergraph: 'identity' } },
      { message: 'Unexpected error.', path: ['me', 'name'], extensions: { code: 'INTERNAL_SERVER_ERROR', supergraph: 'identity' } },
    ]);
  });

  it('answers introspection from the public schema', async () => {
    const result = await post({ query: '{ __schema { types { name } } }' });
    const names = result.body.data.__schema.types.map((t: { name: string }) => t.name);
    expect(names).toEqual(expect.arrayContaining(['User', 'Article', 'Order', 'Mutation']));
    expect(names).not.toContain('AuthenticatedPrincipal');
    expect(calls).toEqual([]);
  });
});

describe('router: auth', () => {
  it('resolves a Bearer key or x-api-key and forwards the principal', async () => {
    for (const headers of [{ authorization: `Bearer ${GOOD_KEY}` }, { 'x-api-key': GOOD_KEY }] as Array<Record<string, string>>) {
      calls.length = 0;
      const result = await post({ query: '{ me { id } myOrders { totalCount } }' }, headers);
      expect(result.status).toBe(200);
      const forwarded = calls.filter((c) => c.operationName !== 'RouterAuthenticate');
      expect(forwarded.map((c) => c.principal)).toEqual([
        { userId: 'u1', scopes: ['orders:write'] },
        { userId: 'u1', scopes: ['orders:write'] },
      ]);
    }
  });

  it('refuses an unknown key with 401 UNAUTHENTICATED before routing', async () => {
    const result = await post({ query: '{ models { id } }' }, { authorization: 'Bearer not-a-key-0000' });
    expect(result.status).toBe(401);
    expect(result.body.errors).toEqual([{ message: 'Invalid API key', extensions: { code: 'UNAUTHENTICATED' } }]);
    expect(calls.filter((c) => c.operationName !== 'RouterAuthenticate')).toEqual([]);
  });

  it('runs anonymously with one SUPERGRAPH_UNAVAILABLE error when the identity supergraph cannot check the key', async () => {
    behaviour.identity = () => ({ ok: false, failure: { reason: 'network', attempts: 1 }, detail: 'down' });
    const result = await post({ query: '{ models { id } }' }, { 'x-api-key': 'some-other-key-42' });
    expect(result.status).toBe(200);
    expect(result.body.data).toEqual({ models: [{ id: 'm1' }] });
    expect(result.body.errors).toEqual([
      expect.objectContaining({ extensions: { code: 'SUPERGRAPH_UNAVAILABLE', supergraph: 'identity', reason: 'network', attempts: 1 } }),
    ]);
    expect(calls.find((c) => c.supergraph === 'commerce')!.principal).toEqual({ userId: undefined, scopes: [] });
  });
});

describe('router: endpoints', () => {
  it('serves /healthz, GraphiQL, and a /readyz that names a down supergraph', async () => {
    const health = await router.fetch('http://router.test/healthz');
    expect([health.status, await health.json()]).toEqual([200, { status: 'ok' }]);

    const graphiql = await router.fetch('http://router.test/graphql', { headers: { accept: 'text/html' } });
    expect(graphiql.status).toBe(200);
    expect(await graphiql.text()).toMatch(/graphiql/i);

    const ready = await router.fetch('http://router.test/readyz');
    expect([ready.status, await ready.json()]).toEqual([200, { status: 'ready', supergraphs: { identity: 'up', commerce: 'up' } }]);
    behaviour.commerce = () => ({ ok: false, failure: { reason: 'network', attempts: 1 }, detail: 'down' });
    const notReady = await router.fetch('http://router.test/readyz');
    expect([notReady.status, await notReady.json()]).toEqual([503, { status: 'unavailable', supergraphs: { identity: 'up', commerce: 'down' } }]);
  });
});
