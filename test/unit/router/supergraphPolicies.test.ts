import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig, type Config } from '../../../lib/config.ts';
import { DEFAULT_TOPOLOGY_FILE, loadTopology } from '../../../lib/topology/loadTopology.ts';
import type { SupergraphPolicyFile } from '../../../lib/topology/topologySchema.ts';
import { edgeRouter, ok } from './edgeRouter.ts';

/** The reference configuration with the topology file's `policy` of each supergraph replaced. */
function withPolicies(policies: Partial<Record<'identity' | 'commerce', SupergraphPolicyFile>>): Config {
  const base = loadConfig({});
  const supergraphs = Object.fromEntries(Object.entries(base.topology.supergraphs).map(([name, s]) => [name, { ...s, policy: policies[name as 'identity'] ?? {} }]));
  return { ...base, topology: { ...base.topology, supergraphs } } as Config;
}

const both = '{ me { id } models { id } }';
const answers = {
  identity: () => ok({ me: { id: 'u1' } }),
  commerce: () => ok({ models: [{ id: 'm1' }] }),
};

// Each supergraph's policy is checked on its own part of an operation: a refused part is answered
// like a failed one (its fields null, the refusal's code on their paths) and the other part served.
describe('per-supergraph policies at the router', () => {
  it('auth required: no anonymous part reaches identity, while commerce answers the same operation', async () => {
    const edge = edgeRouter({ config: withPolicies({ identity: { auth: 'required' } }), ...answers });
    const anonymous = await edge.post({ query: both });
    expect(anonymous.status).toBe(200);
    expect(anonymous.body.data).toEqual({ me: null, models: [{ id: 'm1' }] });
    expect(anonymous.body.errors).toEqual([expect.objectContaining({ path: ['me'], extensions: expect.objectContaining({ code: 'UNAUTHENTICATED' }) })]);
    expect(edge.calls.map((c) => c.supergraph)).toEqual(['commerce']);

    const keyed = await edge.post({ query: both }, { authorization: 'Bearer pro-key-00001' });
    expect(keyed.body).toEqual({ data: { me: { id: 'u1' }, models: [{ id: 'm1' }] } });
  });

  it('auth none: the supergraph is called as the anonymous caller whoever asks', async () => {
    const edge = edgeRouter({ config: withPolicies({ commerce: { auth: 'none' } }), ...answers });
    await edge.post({ query: both }, { authorization: 'Bearer pro-key-00001' });
    const byName = Object.fromEntries(edge.calls.map((c) => [c.supergraph, c.principal]));
    expect(byName.identity.userId).toBe('u1');
    expect(byName.commerce.userId).toBeUndefined();
  });

  it('its own operation limits: a part deeper than commerce allows is refused, the identity part served', async () => {
    const edge = edgeRouter({ config: withPolicies({ commerce: { limits: { maxDepth: 3 } } }), ...answers });
    const deep = await edge.post({ query: '{ me { id } models { id } articles(first: 1) { edges { node { id } } } }' }, { authorization: 'Bearer pro-key-00001' });
    expect(deep.status).toBe(200);
    expect(deep.body.data).toEqual({ me: { id: 'u1' }, models: null, articles: null });
    expect(deep.body.errors.map((e: { path: string[]; extensions: { code: string } }) => [e.path, e.extensions.code])).toEqual([
      [['models'], 'MAX_DEPTH_LIMIT'],
      [['articles'], 'MAX_DEPTH_LIMIT'],
    ]);
    expect(edge.calls.map((c) => c.supergraph)).toEqual(['identity']);
    // Within its limit the same supergraph answers.
    expect((await edge.post({ query: both }, { authorization: 'Bearer pro-key-00001' })).body.errors).toBeUndefined();
  });

  it('its own cost limit: a part priced over commerce’s maximum is refused with the estimate', async () => {
    const edge = edgeRouter({ config: withPolicies({ commerce: { limits: { maxCost: 50 } } }), ...answers });
    const costly = await edge.post({ query: '{ me { id } articles(first: 100) { edges { node { id title } } } }' }, { authorization: 'Bearer pro-key-00001' });
    expect(costly.body.data).toEqual({ me: { id: 'u1' }, articles: null });
    expect(costly.body.errors).toEqual([expect.objectContaining({ path: ['articles'], extensions: expect.objectContaining({ code: 'COST_ESTIMATED_TOO_EXPENSIVE', limit: 50 }) })]);
  });

  it('its own rate plan: a FREE key spends its identity allowance and then gets RATE_LIMITED there alone', async () => {
    const edge = edgeRouter({ config: withPolicies({ identity: { rateLimits: { FREE: '2/60' } } }), ...answers });
    const outcomes = [];
    for (let i = 0; i < 4; i++) outcomes.push((await edge.post({ query: both }, { authorization: 'Bearer free-key-0001' })).body);
    expect(outcomes.map((o) => o.data)).toEqual([
      { me: { id: 'u1' }, models: [{ id: 'm1' }] },
      { me: { id: 'u1' }, models: [{ id: 'm1' }] },
      { me: null, models: [{ id: 'm1' }] },
      { me: null, models: [{ id: 'm1' }] },
    ]);
    expect(outcomes[2].errors).toEqual([expect.objectContaining({ path: ['me'], extensions: expect.objectContaining({ code: 'RATE_LIMITED' }) })]);
    // The plan is per key: another FREE key still has its own allowance; a PRO key has no identity plan here.
    expect((await edge.post({ query: both }, { authorization: 'Bearer free-key-0002' })).body.errors).toBeUndefined();
    expect((await edge.post({ query: both }, { authorization: 'Bearer pro-key-00001' })).body.errors).toBeUndefined();
  });

  it('reads policies from the topology file, and refuses one it does not know with the field named', () => {
    const dir = mkdtempSync(join(tmpdir(), 'policy-'));
    const reference = readFileSync(DEFAULT_TOPOLOGY_FILE, 'utf8').replaceAll('schema/', `${dirname(DEFAULT_TOPOLOGY_FILE)}/schema/`);
    const write = (policy: string) => {
      const file = join(dir, `topology-${Math.random()}.yaml`);
      writeFileSync(file, reference.replace(/^    policy: .*$/m, `    policy: ${policy}`)); // identity's, the first
      return file;
    };
    const read = loadTopology(write('{ auth: required, limits: { maxDepth: 6 }, rateLimits: { FREE: "30/60" } }'));
    expect(read.supergraphs.identity.policy).toEqual({ auth: 'required', limits: { maxDepth: 6 }, rateLimits: { FREE: '30/60' } });
    expect(() => loadTopology(write('{ auth: sometimes }'))).toThrow(/auth/);
    expect(() => loadTopology(write('{ rateLimits: { FREE: "lots" } }'))).toThrow(/LIMIT\/WINDOW_SECONDS/);
    rmSync(dir, { recursive: true, force: true });
  });
});
