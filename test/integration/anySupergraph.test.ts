import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { composeDemoSupergraph, DEMO_QUERY, DEMO_SUBGRAPHS, startDemoSubgraph, type DemoSubgraphName } from '../../bench/federation/demoSubgraphs.ts';
import { PRINCIPAL_HEADER, signPrincipal } from '../../lib/principal.ts';
import { buildBundles } from '../../scripts/buildBundles.ts';
import { postGraphQL } from '../support/graphqlClient.ts';
import { describeFailures, runLoad } from '../support/steadyLoad.ts';

// The router and a gateway, as the processes `npm run router` and `npm run gateway -- shop` start,
// serving a topology file of someone else's: the classic federation demo, with auth off.
const SECRET = randomBytes(24).toString('hex');
const dir = mkdtempSync(join(tmpdir(), 'any-supergraph-'));
const subgraphs: Array<{ probes(): number; close(): Promise<void> }> = [];
const children: ChildProcess[] = [];
let routerUrl: string;
let gatewayUrl: string;

/** Starts a bundled component and waits for its ready message. */
async function start(kind: 'router' | 'gateway', args: string[], env: Record<string, string>): Promise<number> {
  const entries = await buildBundles();
  const child = spawn(process.execPath, [entries[kind], ...args], {
    env: { ...process.env, TOPOLOGY_FILE: join(dir, 'topology.yaml'), INTERNAL_SECRET: SECRET, LOG_LEVEL: 'warn', PORT: '0', ADMIN_PORT: '0', ...env },
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
  });
  children.push(child);
  return new Promise((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`${kind} exited with ${code}`)));
    child.on('message', (message: { type?: string; port?: number }) => message?.type === 'ready' && resolve(message.port!));
  });
}

beforeAll(async () => {
  const urls = {} as Record<DemoSubgraphName, string>;
  for (const name of DEMO_SUBGRAPHS) {
    // Like most subgraphs written elsewhere, these serve GraphQL and nothing else: no /healthz.
    const subgraph = await startDemoSubgraph(name, { healthEndpoints: false });
    subgraphs.push(subgraph);
    urls[name] = subgraph.url;
  }
  writeFileSync(join(dir, 'shop.supergraph.graphql'), composeDemoSupergraph(urls));
  writeFileSync(
    join(dir, 'topology.yaml'),
    ['auth: { apiKeys: none }', 'supergraphs:', '  shop:', '    schema: shop.supergraph.graphql', '    fallback: none', ''].join('\n'),
  );
  gatewayUrl = `http://127.0.0.1:${await start('gateway', ['shop'], {})}/graphql`;
  routerUrl = `http://127.0.0.1:${await start('router', [], { SHOP_GATEWAY_URLS: gatewayUrl })}/graphql`;
}, 60_000);

afterAll(async () => {
  for (const child of children) child.kill('SIGTERM');
  await Promise.all(children.map((child) => (child.exitCode === null ? new Promise((resolve) => child.once('exit', resolve)) : undefined)));
  await Promise.all(subgraphs.map((s) => s.close()));
  rmSync(dir, { recursive: true, force: true });
});

describe('a supergraph that is not ours', () => {
  it('answers the demo’s nested query through router and gateway, every subgraph joined', async () => {
    const { status, body } = await postGraphQL(routerUrl, { query: DEMO_QUERY });
    expect(status).toBe(200);
    expect(body.errors).toBeUndefined();
    expect(body.data!.me).toMatchObject({ id: '1', name: 'User 1', username: '@user1' });
    const product = body.data!.topProducts[2];
    expect(product).toMatchObject({ upc: '3', name: 'Product 3', price: 300, inStock: false, shippingEstimate: 6 });
    expect(product.reviews[0].author.reviews.length).toBeGreaterThan(0);
    // The router adds nothing and loses nothing: the same answer as the gateway's own.
    const direct = await postGraphQL(gatewayUrl, { query: DEMO_QUERY }, { [PRINCIPAL_HEADER]: signPrincipal({ scopes: [] }, SECRET) });
    expect(body).toEqual(direct.body);
  });

  it('serves the demo’s public schema and runs with auth off: any key is simply anonymous', async () => {
    const { body } = await postGraphQL(routerUrl, { query: '{ __schema { queryType { fields { name } } } }' }, { authorization: 'Bearer not-a-key-0123456789' });
    expect(body.data!.__schema.queryType.fields.map((f: { name: string }) => f.name).sort()).toEqual(['me', 'topProducts', 'users']);
    const me = await postGraphQL(routerUrl, { query: '{ me { name } }' }, { authorization: 'Bearer not-a-key-0123456789' });
    expect(me.body).toEqual({ data: { me: { name: 'User 1' } } });
  });

  it('keeps serving under load for 20 s, ten times as long as path checks took to take every replica out, its subgraphs health-checked with GraphQL alone', async () => {
    const probesBefore = subgraphs.map((s) => s.probes());
    // Checks of a path these subgraphs do not serve took every replica out after two rounds (2 s).
    // The load goes to the gateway, whose health checks are under test (the router's anonymous rate limit stays out of it).
    const report = await runLoad({
      concurrency: 4,
      durationMs: 20_000,
      send: () => postGraphQL(gatewayUrl, { query: DEMO_QUERY }, { [PRINCIPAL_HEADER]: signPrincipal({ scopes: [] }, SECRET) }),
      maxPerLoop: 100_000,
    });
    expect(report.failures, describeFailures(report.failures)).toHaveLength(0);
    expect(report.samples.length).toBeGreaterThan(100);
    // Each subgraph answered the gateway's { __typename } probe all along (one a second).
    subgraphs.forEach((s, i) => expect(s.probes() - probesBefore[i]).toBeGreaterThanOrEqual(10));
  }, 120_000);
});
