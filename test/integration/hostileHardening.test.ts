import { brotliCompressSync, deflateRawSync, deflateSync, gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PRINCIPAL_HEADER, signPrincipal } from '../../lib/principal.ts';
import { adminUrl } from '../support/gatewayState.ts';
import { bearer, postGraphQL } from '../support/graphqlClient.ts';
import { chunked, INTERNALS, rawRequest } from '../support/rawHttp.ts';
import { DEMO_KEY, startTestStack, type TestStack } from '../support/testStack.ts';

// The five classes of issue 14, each as its examples and the class around them, against the real
// stack: what a hostile client (or a broken one) sends from outside, and what every tier answers.
let stack: TestStack;
beforeAll(async () => {
  stack = await startTestStack({ replicas: 1 });
}, 120_000);
afterAll(() => stack?.dispose());

const auth = () => bearer(DEMO_KEY);
const port = (component: string) => stack.get(component).port;
const urlOf = (component: string) => `http://127.0.0.1:${port(component)}/graphql`;
const nested = (depth: number) => `${'['.repeat(depth)}0${']'.repeat(depth)}`;
const TOTAL = '{ articles(first: 1) { totalCount } }';

/** The router's signature (anonymous): gateways and subgraphs refuse unsigned requests before reading them. */
const signed = () => ({ [PRINCIPAL_HEADER]: signPrincipal({ scopes: [] }, stack.env.INTERNAL_SECRET) });

/** POSTs raw bytes and reads the answer as text (a refusal need not be GraphQL); signed as the router signs when not to the router. */
async function send(url: string, body: string | Buffer, headers: Record<string, string> = {}) {
  const internal = url !== urlOf('router') ? signed() : {};
  const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', accept: 'application/json', ...internal, ...headers }, body: typeof body === 'string' ? body : new Uint8Array(body) });
  const text = await response.text();
  expect(text).not.toMatch(INTERNALS);
  return { status: response.status, headers: response.headers, text, json: () => JSON.parse(text) };
}

describe('1. deeply nested JSON in variables and extensions', () => {
  it('answers the examples (5,000 levels in a 10 KB body) with 400 BAD_USER_INPUT, never 500', async () => {
    const examples = [
      { query: TOTAL, headers: {} },
      { query: '{ me { id } }', headers: auth() },
      { query: 'query($deep: String) { articles(first: 1, tag: $deep) { totalCount } }', headers: {} },
    ];
    for (const { query, headers } of examples) {
      const answer = await send(urlOf('router'), `{"query":${JSON.stringify(query)},"variables":{"deep":${nested(5_000)}}}`, headers);
      expect(answer.status).toBe(400);
      expect(answer.json().errors).toEqual([expect.objectContaining({ message: 'Variable "$deep" is nested deeper than 32 levels.', extensions: { code: 'BAD_USER_INPUT', limit: 32, variable: 'deep' } })]);
    }
  });

  it('takes 32 levels and refuses 33, in variables (POST and GET) and extensions; extensions over 16 KiB too', async () => {
    const variables = (depth: number) => `{"v":${nested(depth)}}`; // the value of "v" nests `depth` levels
    expect((await send(urlOf('router'), `{"query":"${TOTAL}","variables":${variables(32)}}`)).status).toBe(200);
    expect((await send(urlOf('router'), `{"query":"${TOTAL}","variables":${variables(33)}}`)).json().errors[0].extensions.code).toBe('BAD_USER_INPUT');
    // A GET must say it is no cross-site forgery (CSRF prevention), as Apollo's clients do.
    const get = (params: Record<string, string>) =>
      fetch(`${urlOf('router')}?${new URLSearchParams({ query: TOTAL, ...params })}`, { headers: { accept: 'application/json', 'apollo-require-preflight': 'true' } });
    expect((await get({ variables: variables(32) })).status).toBe(200);
    expect((await get({ variables: variables(33) })).status).toBe(400);
    expect((await get({ variables: `{"v":${nested(1_000)}}` })).status).toBe(400); // 5,000 would pass the 16 KB header limit: 431
    expect((await send(urlOf('router'), `{"query":"${TOTAL}","extensions":{"x":${nested(30)}}}`)).status).toBe(200);
    const deep = await send(urlOf('router'), `{"query":"${TOTAL}","extensions":{"x":${nested(5_000)}}}`);
    expect([deep.status, deep.json().errors[0].extensions]).toEqual([400, { code: 'BAD_REQUEST', limit: 32 }]);
    const large = await send(urlOf('router'), JSON.stringify({ query: TOTAL, extensions: { pad: 'x'.repeat(17_000) } }));
    expect([large.status, large.json().errors[0].extensions]).toEqual([400, { code: 'BAD_REQUEST', limit: 16_384 }]);
    // A variables parameter that is not JSON was a SyntaxError, a 500; it is the client's mistake.
    for (const params of [{ variables: '{bad' }, { extensions: '[' }] as Array<Record<string, string>>) expect((await get(params)).status).toBe(400);
  });

  it('bounds nesting in the document itself, before graphql-js parses it recursively', async () => {
    const tagOf = (depth: number) => JSON.stringify({ query: `{ articles(first: 1, tag: ${'['.repeat(depth)}"x"${']'.repeat(depth)}) { totalCount } }` });
    const refused = await send(urlOf('router'), tagOf(5_000), { accept: 'application/graphql-response+json' });
    expect([refused.status, refused.json().errors[0].extensions]).toEqual([400, { code: 'MAX_DEPTH_LIMIT', limit: 128 }]);
    const within = await send(urlOf('router'), tagOf(120), { accept: 'application/graphql-response+json' });
    expect(within.json().errors[0].extensions.code).toBe('GRAPHQL_VALIDATION_FAILED'); // parsed, then found not to be a String
    const selections = JSON.stringify({ query: `{ ${'a { '.repeat(20_000)}${'}'.repeat(20_000)} }` });
    for (const component of ['router', 'gateway-identity', 'users-0']) {
      expect([component, (await send(urlOf(component), selections)).status]).toEqual([component, 400]);
    }
  });

  it('holds at every tier: a gateway and a subgraph refuse the same body the same way', async () => {
    for (const component of ['gateway-commerce', 'articles-0']) {
      const answer = await send(urlOf(component), `{"query":"${TOTAL}","variables":{"deep":${nested(5_000)}}}`);
      expect([component, answer.status, answer.json().errors[0].extensions.code]).toEqual([component, 400, 'BAD_USER_INPUT']);
    }
    expect((await postGraphQL(urlOf('router'), { query: TOTAL })).body).toEqual({ data: { articles: { totalCount: 100 } } });
  });
});

/** Every string argument that reaches the store, at its documented limit and one past it. */
const STRING_ARGUMENTS: Array<{ argument: string; limit: number; query: string; variables: (s: string) => Record<string, unknown> }> = [
  { argument: 'tag', limit: 64, query: 'query($s: String) { articles(first: 1, tag: $s) { totalCount } }', variables: (s) => ({ s }) },
  { argument: 'after', limit: 128, query: 'query($s: String) { articles(first: 1, after: $s) { totalCount } }', variables: (s) => ({ s }) },
  { argument: 'id', limit: 64, query: 'query($s: ID!) { article(id: $s) { id } }', variables: (s) => ({ s }) },
  { argument: 'after', limit: 128, query: 'query($s: String) { myOrders(first: 1, after: $s) { totalCount } }', variables: (s) => ({ s }) },
  { argument: 'id', limit: 64, query: 'query($s: ID!) { order(id: $s) { id } }', variables: (s) => ({ s }) },
  { argument: 'id', limit: 64, query: 'query($s: ID!) { conversation(id: $s) { id } }', variables: (s) => ({ s }) },
  // Each mutation fails after the length check for another reason, so nothing is created.
  { argument: 'input.idempotencyKey', limit: 200, query: 'mutation($s: String!) { placeOrder(input: { idempotencyKey: $s, lines: [{ articleId: "a1", quantity: 0 }] }) { id } }', variables: (s) => ({ s }) },
  { argument: 'input.lines[0].articleId', limit: 64, query: 'mutation($s: ID!) { placeOrder(input: { idempotencyKey: "k", lines: [{ articleId: $s, quantity: 1 }] }) { id } }', variables: (s) => ({ s }) },
  { argument: 'input.prompt', limit: 8_000, query: 'mutation($s: String!) { chat(input: { prompt: $s, model: "no-such-model" }) { message { id } } }', variables: (s) => ({ s }) },
  { argument: 'input.model', limit: 64, query: 'mutation($s: ID) { chat(input: { prompt: "hi", model: $s }) { message { id } } }', variables: (s) => ({ s }) },
  { argument: 'input.conversationId', limit: 64, query: 'mutation($s: ID) { chat(input: { prompt: "hi", conversationId: $s }) { message { id } } }', variables: (s) => ({ s }) },
];

describe('2. string arguments that reach the store', () => {
  it('refuses the example (a 60,000-character tag) with BAD_USER_INPUT, not INTERNAL_SERVER_ERROR', async () => {
    const { status, body } = await postGraphQL(urlOf('router'), { query: STRING_ARGUMENTS[0].query, variables: { s: 'x'.repeat(60_000) } });
    expect(status).toBe(200);
    expect(body.data).toEqual({ articles: null });
    expect(body.errors).toEqual([expect.objectContaining({ message: '"tag" is longer than 64 characters.', path: ['articles'], extensions: expect.objectContaining({ code: 'BAD_USER_INPUT', argument: 'tag', limit: 64 }) })]);
  });

  it.each(STRING_ARGUMENTS)('keeps $argument to $limit characters: $query', async ({ argument, limit, query, variables }) => {
    // Characters as a reader counts them: an emoji is one, though JavaScript's length says two.
    const at = await postGraphQL(urlOf('router'), { query, variables: variables('😀'.repeat(limit)) }, auth());
    expect(at.body.errors?.filter((e) => /longer than/.test(e.message)) ?? []).toEqual([]);
    expect(at.body.errors?.filter((e) => e.extensions?.code === 'INTERNAL_SERVER_ERROR') ?? []).toEqual([]);
    const over = await postGraphQL(urlOf('router'), { query, variables: variables('😀'.repeat(limit + 1)) }, auth());
    expect(over.body.errors).toEqual([expect.objectContaining({ message: `"${argument}" is longer than ${limit} characters.`, extensions: expect.objectContaining({ code: 'BAD_USER_INPUT', argument, limit }) })]);
  });

  it('documents the limit of every String and ID argument in the schema clients read', async () => {
    const { body } = await postGraphQL(urlOf('router'), {
      query: '{ __schema { types { name fields { name args { name description type { name ofType { name } } } } inputFields { name description type { name ofType { name } } } } } }',
    });
    const undocumented: string[] = [];
    for (const type of body.data!.__schema.types.filter((t: { name: string }) => !t.name.startsWith('__'))) {
      const inputs = [...(type.fields ?? []).flatMap((f: any) => f.args.map((a: any) => ({ ...a, at: `${type.name}.${f.name}(${a.name}:)` }))), ...(type.inputFields ?? []).map((f: any) => ({ ...f, at: `${type.name}.${f.name}` }))];
      for (const input of inputs) {
        const scalar = input.type.name ?? input.type.ofType?.name;
        if ((scalar === 'String' || scalar === 'ID') && !/At most \d+ characters\./.test(input.description ?? '')) undocumented.push(input.at);
      }
    }
    expect(undocumented).toEqual([]);
  });
});

describe('3. request targets and Host headers', () => {
  const post = (target: string, host: string | null, extra = '') => {
    const body = `{"query":"{ __typename }"}`;
    const hostLine = host === null ? '' : `\r\nHost: ${host}`;
    return rawRequest(port('router'), `POST ${target} HTTP/1.1${hostLine}${extra}\r\nContent-Type: application/json\r\nContent-Length: ${body.length}`, body);
  };

  it('serves an absolute-form target (RFC 9112 §3.2.2), its authority in place of the Host header', async () => {
    for (const target of [`http://127.0.0.1:${port('router')}/graphql`, `HTTP://localhost:${port('router')}/graphql?x=1`, 'http://router.example/graphql']) {
      const answer = await post(target, 'ignored.example');
      expect([target, answer.status, answer.body]).toEqual([target, 200, '{"data":{"__typename":"Query"}}']);
    }
  });

  it('answers 400 with a JSON error, never a stack trace, to an invalid, repeated or shape-changing Host', async () => {
    for (const host of ['a b', '[::1', 'x:99999', '', 'evil.example/graphql?', 'user@host', '999.1.1.1']) {
      const answer = await post('/graphql', host);
      expect([host, answer.status, answer.headers['content-type']]).toEqual([host, 400, 'application/json; charset=utf-8']);
      expect(JSON.parse(answer.body).errors[0].extensions.code).toBe('BAD_REQUEST');
    }
    expect((await post('/graphql', 'localhost', '\r\nHost: evil.example')).status).toBe(400);
    expect((await post('http://user:secret@localhost/graphql', 'localhost')).status).toBe(400);
    expect((await post('*', 'localhost')).status).toBe(400);
  });

  it('never sends a stack trace or a file path from any tier, whatever the request line says', async () => {
    const hostile = [
      'GET http://127.0.0.1/graphql?query=%7B__typename%7D HTTP/1.1\r\nHost: localhost',
      'GET /graphql HTTP/1.1\r\nHost: [::1',
      'GET /graphql HTTP/1.1\r\nHost: x:99999',
      'GET http://[::1/graphql HTTP/1.1\r\nHost: localhost',
      'OPTIONS * HTTP/1.1\r\nHost: localhost',
      'GET //graphql/../%2e%2e/%zz HTTP/1.1\r\nHost: localhost',
      'GET /graphql?query=%7B HTTP/1.0',
    ];
    for (const component of ['router', 'gateway-identity', 'orders-0']) {
      for (const head of hostile) {
        const answer = await rawRequest(port(component), head);
        expect([component, head, answer.status < 500]).toEqual([component, head, true]);
        expect(answer.body).not.toMatch(INTERNALS);
      }
    }
  });
});

describe('4. operator endpoints on their own listener', () => {
  it('are not on the client-facing listener of the router or the gateways, by any path or proxy header', async () => {
    const heads = [
      'GET /internal/state HTTP/1.1\r\nX-Forwarded-For: 203.0.113.9',
      'GET /metrics HTTP/1.1\r\nForwarded: for=203.0.113.9',
      'GET /graphql/../internal/state HTTP/1.1',
      'GET /graphql/%2e%2e/metrics HTTP/1.1',
      'GET /graphql/%2E%2E/internal/state HTTP/1.1',
      'GET http://localhost/graphql/../metrics HTTP/1.1',
    ];
    for (const component of ['router', 'gateway-identity', 'gateway-commerce']) {
      for (const head of heads) {
        const answer = await rawRequest(port(component), `${head}\r\nHost: localhost`);
        expect([component, head, answer.status]).toEqual([component, head, 404]);
      }
      for (const path of ['/healthz', '/readyz']) expect((await fetch(`http://127.0.0.1:${port(component)}${path}`)).status).toBe(200);
    }
  });

  it('answer on the admin port of each: state as JSON, metrics as Prometheus text, exact paths only', async () => {
    const router = await (await fetch(`${adminUrl(stack, 'router')}/internal/state`)).json();
    expect(Object.keys(router.gateways).sort()).toEqual(['commerce', 'identity']);
    for (const gateway of ['gateway-identity', 'gateway-commerce']) {
      expect((await (await fetch(`${adminUrl(stack, gateway)}/internal/state`)).json()).subgraphs).toBeTypeOf('object');
      const metrics = await fetch(`${adminUrl(stack, gateway)}/metrics`);
      expect([metrics.status, metrics.headers.get('content-type')]).toEqual([200, expect.stringContaining('text/plain')]);
    }
    const adminPort = stack.get('router').adminPort!;
    expect((await rawRequest(adminPort, 'GET /x/../metrics HTTP/1.1\r\nHost: localhost')).status).toBe(404);
    expect((await fetch(`${adminUrl(stack, 'router')}/metrics`, { method: 'POST' })).status).toBe(405);
  });
});

describe('5. compressed request bodies', () => {
  const body = Buffer.from(JSON.stringify({ query: TOTAL }));
  const expected = '{"data":{"articles":{"totalCount":100}}}';

  it('decodes gzip, deflate (zlib or raw), br and stacked codings, at the router and the gateways', async () => {
    const encoded: Array<[string, Buffer]> = [
      ['gzip', gzipSync(body)],
      ['x-gzip', gzipSync(body)],
      ['deflate', deflateSync(body)],
      ['deflate', deflateRawSync(body)],
      ['br', brotliCompressSync(body)],
      ['gzip, br', brotliCompressSync(gzipSync(body))],
      ['identity', body],
    ];
    for (const [coding, data] of encoded) {
      const answer = await send(urlOf('router'), data, { 'content-encoding': coding });
      expect([coding, answer.status, answer.text]).toEqual([coding, 200, expected]);
    }
    expect((await send(urlOf('gateway-commerce'), gzipSync(body), { 'content-encoding': 'gzip' })).text).toBe(expected);
  });

  it('answers a zip bomb with 413, however it is framed', async () => {
    const zeros = Buffer.alloc(20 * 1024 * 1024); // 20 MiB of zeros: ~20 KB gzipped, ~1 KB in brotli
    for (const [coding, data] of [['gzip', gzipSync(zeros)], ['br', brotliCompressSync(zeros)], ['gzip, gzip', gzipSync(gzipSync(zeros))]] as const) {
      const answer = await send(urlOf('router'), data, { 'content-encoding': coding });
      expect([coding, answer.status, answer.json().errors[0].extensions.code]).toEqual([coding, 413, 'REQUEST_ENTITY_TOO_LARGE']);
    }
    const head = 'POST /graphql HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Encoding: gzip\r\nTransfer-Encoding: chunked';
    expect((await rawRequest(port('router'), head, chunked(gzipSync(zeros)))).status).toBe(413);
    const signedHead = `${head}\r\n${PRINCIPAL_HEADER}: ${signed()[PRINCIPAL_HEADER]}`;
    expect((await rawRequest(port('articles-0'), signedHead, chunked(gzipSync(zeros)))).status).toBe(413);
  });

  it('bounds a chunked body with no Content-Length as it arrives, and serves one under the limit', async () => {
    const head = 'POST /graphql HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked';
    const small = await rawRequest(port('router'), head, chunked(body, 8));
    expect([small.status, small.body]).toEqual([200, expected]);
    const padded = Buffer.from(JSON.stringify({ query: TOTAL, variables: { pad: 'x'.repeat(2 * 1024 * 1024) } }));
    const large = await rawRequest(port('router'), head, chunked(padded));
    expect([large.status, JSON.parse(large.body).errors[0].extensions.code]).toEqual([413, 'REQUEST_ENTITY_TOO_LARGE']);
    const signedHead = `${head}\r\n${PRINCIPAL_HEADER}: ${signed()[PRINCIPAL_HEADER]}`;
    expect((await rawRequest(port('articles-0'), signedHead, chunked(padded))).status).toBe(413);
    expect((await send(urlOf('router'), body)).text).toBe(expected); // and it keeps serving
  });

  it('answers 415 with Accept-Encoding to a coding it cannot decode, and 400 to a body that does not decode', async () => {
    for (const coding of ['zstd', 'compress', 'gzip, gzip, gzip', 'x-secret']) {
      const answer = await send(urlOf('router'), gzipSync(body), { 'content-encoding': coding });
      expect([coding, answer.status, answer.headers.get('accept-encoding')]).toEqual([coding, 415, 'gzip, deflate, br']);
    }
    const multipart = `--x\r\nContent-Disposition: form-data; name="operations"\r\n\r\n{bad\r\n--x--\r\n`;
    expect((await send(urlOf('router'), multipart, { 'content-type': 'multipart/form-data; boundary=x', 'apollo-require-preflight': 'true' })).status).toBe(415); // no uploads here
    const corrupt = await send(urlOf('router'), body, { 'content-encoding': 'gzip' });
    expect([corrupt.status, corrupt.json().errors[0].extensions]).toEqual([400, { code: 'BAD_REQUEST' }]);
  });

  it('never echoes the body: no originalError, no bytes of it, in any refusal of any tier', async () => {
    const marker = 'SECRET-0xDEADBEEF';
    for (const component of ['router', 'gateway-identity', 'users-0']) {
      for (const [data, type] of [[`{"query": "${marker}`, 'application/json'], [gzipSync(`{"${marker}`), 'application/json'], [marker, 'application/graphql+json']] as const) {
        // With `Accept: application/json` yoga answers a body it cannot parse with 200, as the GraphQL-over-HTTP spec allows.
        const answer = await send(urlOf(component), data, { 'content-type': type, accept: 'application/graphql-response+json' });
        expect([component, answer.status]).toEqual([component, 400]);
        expect(answer.text).not.toContain(marker);
        expect(answer.text).not.toContain('originalError');
      }
    }
  });
});
