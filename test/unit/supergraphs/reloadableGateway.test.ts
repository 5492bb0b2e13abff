import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { composeServices } from '@apollo/composition';
import { parse } from 'graphql';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { loadConfig } from '../../../lib/config.ts';
import { PRINCIPAL_HEADER, signPrincipal } from '../../../lib/principal.ts';
import { createGateway, type Gateway } from '../../../supergraphs/createGateway.ts';
import { deferred } from '../../support/deferred.ts';
import { waitFor } from '../../support/graphqlClient.ts';

// A gateway on a one-subgraph supergraph in a scratch schema folder, over a real subgraph server
// whose first fetch is held: the supergraph changes while that request is in flight.
const SECRET = 'reloadable-gateway-secret-0123456789';
const dir = mkdtempSync(join(tmpdir(), 'reload-gateway-'));
const held = deferred<void>();
let firstFetchArrived = false;
let subgraph: Server;
let gateway: Gateway;

function compose(fields: string, url: string): string {
  const typeDefs = parse(`extend schema @link(url: "https://specs.apollo.dev/federation/v2.7", import: ["@key"])\ntype Query { ${fields} }`);
  const result = composeServices([{ name: 'slow', url, typeDefs }]);
  if (result.errors) throw result.errors[0];
  return result.supergraphSdl;
}

async function ask(query: string) {
  const response = await gateway.fetch('http://gateway.test/graphql', {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json', [PRINCIPAL_HEADER]: signPrincipal({ scopes: [] }, SECRET) },
    body: JSON.stringify({ query }),
  });
  return { status: response.status, body: (await response.json()) as { data?: Record<string, unknown>; errors?: unknown[] } };
}

beforeAll(async () => {
  subgraph = createServer(async (request, response) => {
    if (request.method === 'GET') return void response.writeHead(200).end('{}');
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    const { query } = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { query: string };
    if (!firstFetchArrived) {
      firstFetchArrived = true;
      await held.promise;
    }
    response.writeHead(200, { 'content-type': 'application/json' });
    response.end(JSON.stringify({ data: query.includes('world') ? { hello: 'v', world: 'w' } : { hello: 'v' } }));
  });
  await new Promise<void>((resolve) => subgraph.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(subgraph.address() as AddressInfo).port}/graphql`;
  writeFileSync(join(dir, 'tiny.supergraph.graphql'), compose('hello: String', url));
  // A topology of its own, naming the file the test rewrites.
  writeFileSync(join(dir, 'topology.yaml'), 'supergraphs:\n  tiny:\n    schema: tiny.supergraph.graphql\n');
  vi.stubEnv('SUPERGRAPH_HOT_RELOAD_INTERVAL_MS', '50'); // undone after the file: workers run other files after it
  const config = loadConfig({ TOPOLOGY_FILE: join(dir, 'topology.yaml') });
  gateway = await createGateway({ name: 'tiny', config, internalSecret: SECRET, subgraphUrls: { slow: [url] }, logger: pino({ level: 'silent' }) });
});

afterAll(async () => {
  vi.unstubAllEnvs();
  held.resolve();
  await gateway?.close();
  subgraph?.closeAllConnections();
  await new Promise<void>((resolve) => (subgraph ? subgraph.close(() => resolve()) : resolve()));
  rmSync(dir, { recursive: true, force: true });
});

describe('a reloadable gateway', () => {
  it('switches to a new supergraph while a request started on the old one finishes there', async () => {
    const inFlight = ask('{ hello }');
    await waitFor(() => firstFetchArrived, 5_000, 10);
    expect((await ask('{ hello world }')).status).toBe(400);

    const url = `http://127.0.0.1:${(subgraph.address() as AddressInfo).port}/graphql`;
    writeFileSync(join(dir, 'tiny.supergraph.graphql'), compose('hello: String world: String', url));
    await waitFor(async () => (await ask('{ hello world }')).status === 200, 5_000, 25);
    expect(await ask('{ hello world }')).toEqual({ status: 200, body: { data: { hello: 'v', world: 'w' } } });

    held.resolve();
    expect(await inFlight).toEqual({ status: 200, body: { data: { hello: 'v' } } });
  });

  it('keeps the current supergraph when the file holds no valid one', async () => {
    writeFileSync(join(dir, 'tiny.supergraph.graphql'), 'type Query { not a supergraph');
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(await ask('{ hello world }')).toEqual({ status: 200, body: { data: { hello: 'v', world: 'w' } } });
  });
});
