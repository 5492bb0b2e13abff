import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PRINCIPAL_HEADER, signPrincipal } from '../../lib/principal.ts';
import { postGraphQL } from '../support/graphqlClient.ts';
import { leakIn } from '../support/hostileRequest.ts';
import { startTestStack, type TestStack } from '../support/testStack.ts';

// GraphQL over HTTP status codes (issue 17), on every tier as deployed: the router, a gateway and a
// subgraph, each asked as its callers ask it (gateways and subgraphs with the router's signature).
// A request that is not a well-formed GraphQL-over-HTTP request (not JSON, empty, a parameter of the
// wrong type) is 400 whatever the client accepts; a request error in a well-formed one (a document
// that does not parse or validate, variables that do not coerce, no operation to run) is 400 for
// `application/graphql-response+json` and 200 for `application/json`, as the spec says. Every
// answer is a GraphQL error with its code, leaks nothing, and the tier keeps serving.
let stack: TestStack;
beforeAll(async () => {
  stack = await startTestStack({ replicas: 1 });
}, 180_000);
afterAll(() => stack?.dispose());

const TARGETS = ['router', 'gateway-commerce', 'articles-0'] as const;
type Target = (typeof TARGETS)[number];
const urlOf = (target: Target) => (target === 'router' ? stack.routerUrl : `http://127.0.0.1:${stack.get(target).port}/graphql`);
const signed = (target: Target): Record<string, string> => (target === 'router' ? {} : { [PRINCIPAL_HEADER]: signPrincipal({ scopes: [] }, stack.env.INTERNAL_SECRET) });

const JSON_TYPE = 'application/json';
const NEW_TYPE = 'application/graphql-response+json';
const ARTICLES = '{ articles(first: 1) { totalCount } }';

interface StatusCase {
  name: string;
  body: string;
  code: string;
  /** Status for `application/json` clients and for `application/graphql-response+json` ones. */
  status: { json: number; graphqlResponse: number };
  contentType?: string;
}

const malformed = (name: string, body: string): StatusCase => ({ name, body, code: 'BAD_REQUEST', status: { json: 400, graphqlResponse: 400 } });
const requestError = (name: string, body: unknown, code: string): StatusCase => ({ name, body: JSON.stringify(body), code, status: { json: 200, graphqlResponse: 400 } });

const CASES: StatusCase[] = [
  malformed('a body that is not JSON', '{"query": "{ articles'),
  malformed('an empty body', ''),
  malformed('a JSON string', '"{ articles { totalCount } }"'),
  malformed('operationName: ["a"]', JSON.stringify({ query: ARTICLES, operationName: ['a'] })),
  malformed('operationName: 7', JSON.stringify({ query: ARTICLES, operationName: 7 })),
  malformed('variables that are a string', JSON.stringify({ query: ARTICLES, variables: 'x' })),
  malformed('extensions that are an array', JSON.stringify({ query: ARTICLES, extensions: [1] })),
  malformed('a query that is a number', JSON.stringify({ query: 42 })),
  malformed('no query', JSON.stringify({ variables: {} })),
  malformed('a batch', JSON.stringify([{ query: ARTICLES }])),
  malformed('a misspelt parameter', JSON.stringify({ qeury: ARTICLES })),
  requestError('a document that does not parse', { query: '{ articles(first: 1) { totalCount }' }, 'GRAPHQL_PARSE_FAILED'),
  requestError('a document that does not validate', { query: '{ articles(first: 1) { nope } }' }, 'GRAPHQL_VALIDATION_FAILED'),
  requestError('variables that do not coerce', { query: 'query ($n: Int) { articles(first: $n) { totalCount } }', variables: { n: 'three' } }, 'BAD_USER_INPUT'),
  requestError('a missing required variable', { query: 'query ($id: ID!) { article(id: $id) { id } }' }, 'BAD_USER_INPUT'),
  requestError('an operation name that names none', { query: `query A ${ARTICLES}`, operationName: 'B' }, 'OPERATION_RESOLUTION_FAILURE'),
  { name: 'an XML body', body: '<query/>', contentType: 'application/xml', code: 'BAD_REQUEST', status: { json: 415, graphqlResponse: 415 } },
];

async function send(target: Target, init: { method?: string; body?: string; headers?: Record<string, string>; path?: string }) {
  const response = await fetch(urlOf(target).replace(/\/graphql$/, init.path ?? '/graphql'), {
    method: init.method ?? 'POST',
    headers: { ...signed(target), ...init.headers },
    body: init.body,
    signal: AbortSignal.timeout(20_000),
  });
  const text = await response.text();
  return { status: response.status, headers: response.headers, text, body: text ? (JSON.parse(text) as { errors?: Array<{ extensions?: { code?: string } }>; data?: unknown }) : undefined };
}

async function stillServes(target: Target): Promise<void> {
  const answer = await postGraphQL(urlOf(target), { query: ARTICLES }, signed(target));
  expect([target, answer.status, answer.body]).toEqual([target, 200, { data: { articles: { totalCount: 100 } } }]);
}

describe.each(TARGETS)('HTTP status at %s', (target) => {
  it.each(CASES.flatMap((c) => [[c.name, JSON_TYPE, c] as const, [c.name, NEW_TYPE, c] as const]))('%s, accepting %s', async (_name, accept, c) => {
    const answer = await send(target, { body: c.body, headers: { 'content-type': c.contentType ?? 'application/json', accept } });
    const expected = accept === JSON_TYPE ? c.status.json : c.status.graphqlResponse;
    expect(answer.status, answer.text.slice(0, 300)).toBe(expected);
    expect(answer.body?.errors?.[0]?.extensions?.code, answer.text.slice(0, 300)).toBe(c.code);
    for (const error of answer.body?.errors ?? []) expect(error.extensions?.code).toEqual(expect.any(String));
    // A request error never ran anything: no data entry.
    expect(answer.body && 'data' in answer.body).toBe(false);
    expect(leakIn(answer)).toBeUndefined();
    await stillServes(target);
  });

  it('refuses methods other than GET and POST with 405 and Allow, and a GET mutation with 405', async () => {
    const put = await send(target, { method: 'PUT', body: JSON.stringify({ query: ARTICLES }), headers: { 'content-type': 'application/json', accept: NEW_TYPE } });
    expect([put.status, put.headers.get('allow'), put.body?.errors?.[0]?.extensions?.code]).toEqual([405, 'GET, POST', 'BAD_REQUEST']);
    // A subgraph without mutations would call it invalid first: the orders subgraph has some.
    const mutationAt = target === 'articles-0' ? 'orders-0' : target;
    const get = await fetch(`${mutationAt === 'router' ? stack.routerUrl : `http://127.0.0.1:${stack.get(mutationAt).port}/graphql`}?query=${encodeURIComponent('mutation { __typename }')}`, {
      headers: { ...signed(mutationAt === 'router' ? 'router' : 'articles-0'), accept: NEW_TYPE, 'apollo-require-preflight': 'true' },
    });
    expect([get.status, get.headers.get('allow'), ((await get.json()) as { errors: Array<{ extensions: { code: string } }> }).errors[0].extensions.code]).toEqual([405, 'POST', 'BAD_REQUEST']);
    await stillServes(target);
  });

  it('answers an Accept it cannot serve with 406, and GET with the query in the URL', async () => {
    const refused = await send(target, { body: JSON.stringify({ query: ARTICLES }), headers: { 'content-type': 'application/json', accept: 'application/xml' } });
    expect(refused.status).toBe(406);
    const answer = await send(target, { method: 'GET', path: `/graphql?query=${encodeURIComponent(ARTICLES)}`, headers: { accept: NEW_TYPE, 'apollo-require-preflight': 'true' } });
    expect([answer.status, answer.headers.get('content-type'), answer.body]).toEqual([200, `${NEW_TYPE}; charset=utf-8`, { data: { articles: { totalCount: 100 } } }]);
  });
});

describe('CORS', () => {
  it('is answered by no gateway and no subgraph: no browser ever talks to them', async () => {
    for (const target of ['gateway-commerce', 'articles-0'] as const) {
      const origin = 'https://app.example.com';
      const preflight = await send(target, { method: 'OPTIONS', headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type' } });
      expect([target, preflight.headers.get('access-control-allow-origin'), preflight.headers.get('access-control-allow-credentials')]).toEqual([target, null, null]);
      const answer = await send(target, { body: JSON.stringify({ query: ARTICLES }), headers: { origin, 'content-type': 'application/json' } });
      expect([target, answer.status, answer.headers.get('access-control-allow-origin')]).toEqual([target, 200, null]);
    }
  });
});
