import { afterEach, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../../lib/config.ts';
import { edgeRouter, type EdgeRouter } from './edgeRouter.ts';

// The browser policy against the real router (scripted gateways): CORS, CSRF prevention, security
// headers, and GraphiQL / introspection by environment.
const opened: EdgeRouter[] = [];
afterEach(async () => {
  await Promise.all(opened.splice(0).map((r) => r.router.close()));
});

function routerWith(env: Record<string, string> = {}): EdgeRouter {
  const edge = edgeRouter({ config: loadConfig({ RATE_LIMIT_ENABLED: 'false', ...env }) });
  opened.push(edge);
  return edge;
}

const MODELS = JSON.stringify({ query: '{ models { id } }' });

async function send(edge: EdgeRouter, init: RequestInit & { path?: string } = {}) {
  const response = await edge.router.fetch(`http://router.test${init.path ?? '/graphql'}`, init);
  const text = await response.text();
  return { status: response.status, headers: response.headers, text, body: text.startsWith('{') ? JSON.parse(text) : undefined };
}

const post = (origin?: string) => ({
  method: 'POST',
  headers: { 'content-type': 'application/json', ...(origin ? { origin } : {}) },
  body: MODELS,
});
const preflight = (origin: string) => ({
  method: 'OPTIONS',
  headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type, authorization' },
});

describe('CORS', () => {
  it('sends no CORS headers by default, so browsers on other origins cannot read answers', async () => {
    const edge = routerWith();
    const answer = await send(edge, post('https://app.example.com'));
    expect(answer.status).toBe(200);
    expect(answer.headers.get('access-control-allow-origin')).toBeNull();
    expect((await send(edge, preflight('https://app.example.com'))).headers.get('access-control-allow-origin')).toBeNull();
  });

  it('echoes a configured origin with Vary: Origin, exposes the rate limit headers, and ignores every other origin', async () => {
    const edge = routerWith({ CORS_ORIGINS: 'https://app.example.com,https://admin.example.com' });
    const allowed = await send(edge, post('https://admin.example.com'));
    expect(allowed.headers.get('access-control-allow-origin')).toBe('https://admin.example.com');
    expect(allowed.headers.get('vary')).toMatch(/Origin/);
    expect(allowed.headers.get('access-control-allow-credentials')).toBeNull();
    expect(allowed.headers.get('access-control-expose-headers')).toBe('RateLimit, RateLimit-Policy, Retry-After');

    const check = await send(edge, preflight('https://app.example.com'));
    expect(check.status).toBe(204);
    expect(check.headers.get('access-control-allow-origin')).toBe('https://app.example.com');
    expect(check.headers.get('access-control-allow-methods')).toBe('GET, POST');
    expect(check.headers.get('access-control-allow-headers')).toBe('content-type, authorization');
    expect(check.headers.get('access-control-max-age')).toBe('600');

    // "null" is what a sandboxed iframe sends: it must not match anything.
    for (const origin of ['https://evil.example.com', 'null', 'https://app.example.com.evil.com']) {
      expect((await send(edge, post(origin))).headers.get('access-control-allow-origin'), origin).toBeNull();
      expect((await send(edge, preflight(origin))).headers.get('access-control-allow-origin'), origin).toBeNull();
    }
  });

  it('allows credentials only for listed origins, and "*" never with them', async () => {
    const listed = routerWith({ CORS_ORIGINS: 'https://app.example.com', CORS_ALLOW_CREDENTIALS: 'true' });
    expect((await send(listed, post('https://app.example.com'))).headers.get('access-control-allow-credentials')).toBe('true');

    const any = routerWith({ CORS_ORIGINS: '*' });
    const answer = await send(any, post('https://anyone.example.com'));
    expect(answer.headers.get('access-control-allow-origin')).toBe('https://anyone.example.com');
    expect(answer.headers.get('access-control-allow-credentials')).toBeNull();

    expect(() => loadConfig({ CORS_ORIGINS: '*', CORS_ALLOW_CREDENTIALS: 'true' })).toThrow(/corsOrigins \(CORS_ORIGINS\): "\*" cannot be combined with credentials/);
    expect(() => loadConfig({ CORS_ORIGINS: 'https://app.example.com/path' })).toThrow(ConfigError);
  });
});

describe('CSRF prevention (as @apollo/server)', () => {
  const blocked = async (edge: EdgeRouter, init: RequestInit & { path?: string }) => {
    const answer = await send(edge, init);
    expect(answer.status).toBe(400);
    expect(answer.body.errors).toHaveLength(1);
    expect(answer.body.errors[0].extensions).toEqual({ code: 'BAD_REQUEST' });
    expect(answer.body.errors[0].message).toMatch(/Cross-Site Request Forgery/);
  };

  it('refuses a GET without a preflight-only header or a non-simple content type, before any gateway', async () => {
    const edge = routerWith();
    const path = `/graphql?query=${encodeURIComponent('{ models { id } }')}`;
    await blocked(edge, { path });
    await blocked(edge, { path, headers: { 'x-apollo-operation-name': '' } });
    await blocked(edge, { path, headers: { 'content-type': 'text/plain' } });
    expect(edge.calls).toEqual([]);
    const preflighted: Array<Record<string, string>> = [{ 'apollo-require-preflight': 'true' }, { 'x-apollo-operation-name': 'Models' }, { 'content-type': 'application/json' }];
    for (const headers of preflighted) {
      const answer = await send(edge, { path, headers });
      expect(answer.body, JSON.stringify(headers)).toEqual({ data: { models: [{ id: 'm1' }] } });
    }
  });

  it('refuses a POST with a simple content type (any parameters, any case) unless it carries the header', async () => {
    const edge = routerWith();
    for (const type of ['text/plain', 'multipart/form-data; boundary=x', 'Application/X-WWW-Form-Urlencoded; charset=utf-8']) {
      await blocked(edge, { method: 'POST', headers: { 'content-type': type }, body: MODELS });
    }
    // Past CSRF prevention, a text/plain body is still not GraphQL.
    const preflighted = await send(edge, { method: 'POST', headers: { 'content-type': 'text/plain', 'apollo-require-preflight': '1' }, body: MODELS });
    expect([preflighted.status, preflighted.body.errors[0].extensions.code]).toEqual([415, 'BAD_REQUEST']);
    expect(edge.calls).toEqual([]);
  });

  it('lets a GET through that carries a key only a script can have set (Bearer token, x-api-key), not an ambient Basic login', async () => {
    const edge = routerWith();
    const path = `/graphql?query=${encodeURIComponent('{ models { id } }')}`;
    await blocked(edge, { path, headers: { authorization: 'Basic dXNlcjpwYXNz' } });
    await blocked(edge, { path, headers: { authorization: 'Bearer ' } });
    await blocked(edge, { path, headers: { 'x-api-key': '' } });
    expect(edge.calls).toEqual([]);
    // Past CSRF prevention the key is checked as usual: the scripted identity gateway knows no keys.
    const keyed: Array<Record<string, string>> = [{ authorization: 'Bearer some-key-0123456789' }, { 'x-api-key': 'some-key-0123456789' }];
    for (const headers of keyed) {
      const answer = await send(edge, { path, headers });
      expect([answer.status, answer.body.errors[0].extensions.code], JSON.stringify(headers)).toEqual([401, 'UNAUTHENTICATED']);
    }
  });

  it('can be turned off (CSRF_PREVENTION=false) for non-browser deployments', async () => {
    const edge = routerWith({ CSRF_PREVENTION: 'false' });
    expect((await send(edge, { path: `/graphql?query=${encodeURIComponent('{ models { id } }')}` })).status).toBe(200);
  });
});

describe('security headers, GraphiQL and introspection', () => {
  const SECURITY_HEADERS = {
    'x-content-type-options': 'nosniff',
    'referrer-policy': 'no-referrer',
    'x-frame-options': 'DENY',
    'content-security-policy': "frame-ancestors 'none'",
  };

  it('puts the security headers on GraphiQL and on every other answer', async () => {
    const edge = routerWith();
    const graphiql = await send(edge, { headers: { accept: 'text/html' } });
    expect(graphiql.status).toBe(200);
    expect(graphiql.text).toMatch(/graphiql/i);
    for (const answer of [graphiql, await send(edge, post()), await send(edge, { path: '/healthz' })]) {
      for (const [name, value] of Object.entries(SECURITY_HEADERS)) {
        // GraphiQL's page has a CSP of its own, to which the framing rule is added.
        if (name === 'content-security-policy') expect(answer.headers.get(name), name).toContain(value);
        else expect(answer.headers.get(name), name).toBe(value);
      }
    }
  });

  it('turns GraphiQL and introspection off when NODE_ENV=production; __typename still answers', async () => {
    const edge = routerWith({ NODE_ENV: 'production' });
    const page = await send(edge, { headers: { accept: 'text/html' } });
    expect(page.text).not.toMatch(/graphiql/i);
    for (const query of ['{ __schema { types { name } } }', '{ __type(name: "Query") { name } }', '{ models { id __type: id } a: __schema { queryType { name } } }']) {
      const answer = await send(edge, { ...post(), body: JSON.stringify({ query }) });
      expect(answer.status, query).toBe(400);
      expect(answer.body.errors[0].extensions.code).toBe('GRAPHQL_VALIDATION_FAILED');
      expect(answer.body.errors[0].message).toMatch(/introspection is not allowed/);
    }
    expect((await send(edge, { ...post(), body: JSON.stringify({ query: '{ __typename models { id } }' }) })).body).toEqual({
      data: { __typename: 'Query', models: [{ id: 'm1' }] },
    });
    expect(edge.calls).toHaveLength(1);
  });

  it('serves both in production when enabled by config, and by default elsewhere', async () => {
    const envs: Array<Record<string, string>> = [{ NODE_ENV: 'production', GRAPHIQL: 'true', INTROSPECTION: 'true' }, { NODE_ENV: 'development' }, {}];
    for (const env of envs) {
      const edge = routerWith(env);
      expect((await send(edge, { headers: { accept: 'text/html' } })).text, JSON.stringify(env)).toMatch(/graphiql/i);
      const answer = await send(edge, { ...post(), body: JSON.stringify({ query: '{ __schema { queryType { name } } }' }) });
      expect(answer.body, JSON.stringify(env)).toEqual({ data: { __schema: { queryType: { name: 'Query' } } } });
    }
  });
});
