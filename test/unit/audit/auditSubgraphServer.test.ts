import { afterAll, describe, expect, it } from 'vitest';
import { serveAuditSubgraphs } from '../../../scripts/audit/auditSubgraphServer.ts';
import type { AuditSuite } from '../../../scripts/audit/auditSuites.ts';

/** A suite whose subgraph `name` answers its own name, and whose supergraph lists its subgraphs' URLs. */
function fakeSuite(id: string, names: string[]): AuditSuite {
  return {
    id,
    routes: new Map(names.map((name) => [`POST /${id}/${name}`, async () => Response.json({ data: { from: `${id}/${name}` } })])),
    supergraphSdl: async (origin) => names.map((name) => `@join__graph(name: "${name}", url: "${origin}/${id}/${name}")`).join('\n'),
    tests: async () => [],
  };
}

const one = fakeSuite('one', ['a', 'b']);
const two = fakeSuite('two', ['a']);
const server = await serveAuditSubgraphs([one, two]);
afterAll(() => server.close());
const post = async (url: string) => {
  const response = await fetch(url, { method: 'POST', body: '{}' });
  return response.ok ? ((await response.json()) as { data: { from: string } }).data.from : response.status;
};

describe('the audit’s subgraph server', () => {
  it('serves each suite’s subgraphs at /<suite>/<subgraph>, as the audit’s server does', async () => {
    expect(await post(`${server.origin}/one/b`)).toBe('one/b');
    expect(await post(`${server.origin}/two/a`)).toBe('two/a');
    expect(await post(`${server.origin}/two/b`)).toBe(404);
  });

  it('serves a slot’s current suite at the same URLs, which its supergraph names', async () => {
    const slot = server.slot('worker-0');
    expect(await slot.serve(one)).toBe(`@join__graph(name: "a", url: "${slot.origin}/a")\n@join__graph(name: "b", url: "${slot.origin}/b")`);
    expect(await post(`${slot.origin}/a`)).toBe('one/a');
    await slot.serve(two);
    expect(await post(`${slot.origin}/a`)).toBe('two/a');
    // A subgraph the current suite does not have is not answered by an earlier suite's.
    expect(await post(`${slot.origin}/b`)).toBe(404);
  });
});
