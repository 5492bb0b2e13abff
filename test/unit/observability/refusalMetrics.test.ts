import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../../lib/config.ts';
import { edgeRouter, type EdgeRouter } from '../router/edgeRouter.ts';

// Refusals at the edge are counted by code and operation like any error: rate limits and operation limits.
const base = loadConfig({});
let edge: EdgeRouter;
afterAll(() => edge?.router.close());

async function scrape(): Promise<string> {
  const admin = await edge.router.listenAdmin(0, '127.0.0.1');
  return fetch(`${admin.url}/metrics`).then((r) => r.text());
}
const count = (text: string, metric: string, ...labels: string[]) =>
  Number(text.split('\n').find((l) => l.startsWith(`${metric}{`) && labels.every((label) => l.includes(label)))?.split(' ').at(-1) ?? 0);

describe('refusal metrics', () => {
  it('counts rate-limit and operation-limit refusals by code', async () => {
    edge = edgeRouter({
      config: { ...base, router: { ...base.router, maxDepth: 2 } },
      edge: { rateLimit: { enabled: true, anonymous: { limit: 2, windowSeconds: 60 } } },
    });
    expect((await edge.post({ query: 'query Deep { me { id } articles { edges { node { id } } } }' })).body.errors[0].extensions.code).toBe('MAX_DEPTH_LIMIT');
    expect((await edge.post({ query: 'query Models { models { id } }' })).status).toBe(200);
    // Refused before the document is parsed: the operation's name is known from `operationName` only.
    const refused = await edge.post({ query: 'query Models { models { id } }', operationName: 'Models' });
    expect(refused.body.errors[0].extensions.code).toBe('RATE_LIMITED');

    const text = await scrape();
    expect(count(text, 'graphql_server_errors_total', 'error_code="MAX_DEPTH_LIMIT"', 'graphql_operation_name="Deep"')).toBe(1);
    expect(count(text, 'graphql_server_errors_total', 'error_code="RATE_LIMITED"', 'graphql_operation_name="Models"')).toBe(1);
    expect(count(text, 'rate_limited_requests_total', 'policy="anonymous"')).toBe(1);
    expect(count(text, 'http_server_request_duration_seconds_count', 'graphql_operation_name="Models"', `http_response_status_code="${refused.status}"`)).toBe(1);
  });
});
