import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import pino from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { loadConfig, type Config } from '../../../lib/config.ts';
import { startTracing } from '../../../lib/observability/tracing.ts';
import { createRouter, type Router } from '../../../router/createRouter.ts';
import { startFakeGateway, type FakeAnswer, type FakeGateway, type SeenRequest } from '../router/fakeGateway.ts';

// The router in-process over real HTTP, fake gateways behind it: what its /metrics, its request log
// and its operation record say about requests a client really sent.
const SECRET = 'router-telemetry-secret-0123456789';
const TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736';
const dir = mkdtempSync(join(tmpdir(), 'router-telemetry-'));
const cleanups: Array<() => Promise<void>> = [];

beforeAll(() => {
  // Trace context without an exporter, as a component runs when OTEL_EXPORTER_OTLP_ENDPOINT is unset.
  startTracing({ serviceName: 'router' });
  // Undone after the file (vi.unstubAllEnvs): workers run other files after it.
  vi.stubEnv('METRICS_MAX_OPERATION_NAMES', '3');
  vi.stubEnv('RECORD_OPERATIONS', 'on');
});
afterEach(async () => {
  await Promise.all(cleanups.splice(0).map((cleanup) => cleanup()));
});
afterAll(() => {
  vi.unstubAllEnvs();
  rmSync(dir, { recursive: true, force: true });
});

async function gateway(answer: (request: SeenRequest) => FakeAnswer): Promise<FakeGateway> {
  const fake = await startFakeGateway(answer);
  cleanups.push(fake.close);
  return fake;
}

async function start(urls: { identity: string; commerce: string }) {
  const base = loadConfig({});
  const config: Config = { ...base, router: { ...base.router, gatewayUrls: { identity: [urls.identity], commerce: [urls.commerce] } } };
  // A record of its own per router: a router reads its file back at start.
  vi.stubEnv('RECORDED_OPERATIONS_FILE', join(dir, `recorded-${cleanups.length}-${Date.now()}.json`));
  const lines: Array<Record<string, unknown>> = [];
  const sink = new Writable({
    write(chunk, _encoding, done) {
      for (const line of String(chunk).split('\n')) if (line) lines.push(JSON.parse(line));
      done();
    },
  });
  const router: Router = createRouter({ config, internalSecret: SECRET, logger: pino({ level: 'info' }, sink) });
  cleanups.push(() => router.close());
  const { url } = await router.listen(0, '127.0.0.1');
  const admin = await router.listenAdmin(0, '127.0.0.1');
  return { router, url, metrics: () => fetch(`${admin.url}/metrics`).then((r) => r.text()), lines };
}

const post = (url: string, query: string, headers: Record<string, string> = {}) =>
  fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify({ query }) }).then(async (r) => ({
    status: r.status,
    body: (await r.json()) as { data?: unknown; errors?: Array<{ extensions?: Record<string, unknown> }> },
  }));

function sample(scrape: string, metric: string, labels: Record<string, string>): number | undefined {
  const line = scrape.split('\n').find((l) => l.startsWith(`${metric}{`) && Object.entries(labels).every(([k, v]) => l.includes(`${k}="${v}"`)));
  return line === undefined ? undefined : Number(line.slice(line.lastIndexOf(' ') + 1));
}

describe('router telemetry', () => {
  it('measures, logs and traces each request, with what fallbacks served', async () => {
    let commerceUp = true;
    const identity = await gateway(() => ({ json: { data: { me: { id: 'u1' } } } }));
    const commerce = await gateway(() => (commerceUp ? { json: { data: { models: [{ id: 'm1' }] } } } : { status: 503, raw: 'down' }));
    const { url, metrics, lines } = await start({ identity: identity.url, commerce: commerce.url });

    const traceparent = `00-${TRACE_ID}-00f067aa0ba902b7-01`;
    expect((await post(url, 'query Models { models { id } me { id } }', { traceparent })).status).toBe(200);
    commerceUp = false;
    const stale = await post(url, 'query Models { models { id } me { id } }');
    expect(stale.body.errors?.[0]?.extensions).toMatchObject({ code: 'SUPERGRAPH_UNAVAILABLE', fallback: { source: 'cache' } });
    // A validation failure in a well-formed request is 200 for `application/json` (no Accept), as GraphQL over HTTP says.
    expect((await post(url, '{ nosuchfield }')).status).toBe(200);
    expect((await post(url, 'query Broken {')).body.errors?.[0]?.extensions?.code).toBe('GRAPHQL_PARSE_FAILED');

    // The client's trace continues to the gateway.
    expect(commerce.seen[0].headers.traceparent).toMatch(new RegExp(`^00-${TRACE_ID}-[0-9a-f]{16}-0[01]$`));

    const scrape = await metrics();
    expect(sample(scrape, 'http_server_request_duration_seconds_count', { graphql_operation_name: 'Models', graphql_operation_type: 'query', http_response_status_code: '200' })).toBe(2);
    expect(sample(scrape, 'graphql_server_errors_total', { graphql_operation_name: 'Models', error_code: 'SUPERGRAPH_UNAVAILABLE' })).toBe(1);
    expect(sample(scrape, 'graphql_server_errors_total', { graphql_operation_name: '(anonymous)', graphql_operation_type: 'query', error_code: 'GRAPHQL_VALIDATION_FAILED' })).toBe(1);
    expect(sample(scrape, 'http_client_request_duration_seconds_count', { upstream: 'commerce', outcome: 'answered' })).toBe(1);
    expect(sample(scrape, 'http_client_request_duration_seconds_count', { upstream: 'commerce', outcome: 'fallback' })).toBe(1);
    expect(sample(scrape, 'http_client_request_duration_seconds_count', { upstream: 'identity', outcome: 'answered' })).toBe(2);
    expect(sample(scrape, 'upstream_failures_answered_total', { upstream: 'commerce', answer: 'cache' })).toBe(1);
    expect(sample(scrape, 'cache_lookups_total', { cache: 'fallback', result: 'hit' })).toBe(1);

    const requests = lines.filter((l) => l.msg === 'request');
    expect(requests).toHaveLength(4);
    expect(requests[0]).toMatchObject({ trace_id: TRACE_ID, operation: 'Models', type: 'query', status: 200 });
    expect(requests[0].duration_ms).toEqual(expect.any(Number));
    expect(requests[1]).toMatchObject({ operation: 'Models', status: 200, errors: ['SUPERGRAPH_UNAVAILABLE'], fallbacks: [{ upstream: 'commerce', source: 'cache' }] });
    expect(requests[1].trace_id).toMatch(/^[0-9a-f]{32}$/);
    expect(requests[1].trace_id).not.toBe(TRACE_ID);
    expect(requests[2]).toMatchObject({ operation: null, type: 'query', status: 200, errors: ['GRAPHQL_VALIDATION_FAILED'] });
    // Not even parsed: its operation is unknown, and so labelled.
    expect(requests[3]).toMatchObject({ type: 'unknown', errors: ['GRAPHQL_PARSE_FAILED'] });
    expect(sample(scrape, 'graphql_server_errors_total', { graphql_operation_name: '(unknown)', error_code: 'GRAPHQL_PARSE_FAILED' })).toBe(1);
  });

  it('folds operation names past the cap into one label', async () => {
    const identity = await gateway(() => ({ json: { data: { me: { id: 'u1' } } } }));
    const commerce = await gateway(() => ({ json: { data: {} } }));
    const { url, metrics } = await start({ identity: identity.url, commerce: commerce.url });
    for (const name of ['A', 'B', 'C', 'D', 'E']) expect((await post(url, `query ${name} { me { id } }`)).status).toBe(200);
    await post(url, '{ me { id } }');
    const scrape = await metrics();
    const names = new Set([...scrape.matchAll(/^http_server_request_duration_seconds_count\{.*graphql_operation_name="([^"]+)"/gm)].map((m) => m[1]));
    expect(names).toEqual(new Set(['A', 'B', 'C', '(other)', '(anonymous)']));
    expect(sample(scrape, 'http_server_request_duration_seconds_count', { graphql_operation_name: '(other)' })).toBe(2);
  });

  it('records every distinct operation, its name and when it was last seen', async () => {
    const identity = await gateway(() => ({ json: { data: { me: { id: 'u1' } } } }));
    const commerce = await gateway(() => ({ json: { data: { article: null } } }));
    const { url, router } = await start({ identity: identity.url, commerce: commerce.url });
    const before = Date.now();
    await post(url, 'query Article { article(id: "secret-1") { id title } }');
    await post(url, 'query Article { article(id: "secret-2") { id title } }');
    await post(url, 'query Me { me { id } }');
    await router.close();
    const { operations } = JSON.parse(readFileSync(process.env.RECORDED_OPERATIONS_FILE!, 'utf8'));
    const article = operations.find((o: { name: string }) => o.name === 'Article');
    expect(operations.map((o: { name: string }) => o.name).sort()).toEqual(['Article', 'Me']);
    expect(article).toMatchObject({ type: 'query', count: 2, document: 'query Article{article(id:""){id title}}' });
    expect(article.lastSeen).toBeGreaterThanOrEqual(before);
    expect(article.signature).toMatch(/^[0-9a-f]{64}$/);
  });
});
