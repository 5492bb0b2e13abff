import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { COMPOSITION_TARGETS, composeFromRoverConfig } from '../../scripts/composeSupergraphs.ts';
import { adminUrl } from '../support/gatewayState.ts';
import { bearer, postGraphQL, waitFor } from '../support/graphqlClient.ts';
import { copySchemaFolder, type SchemaFolderCopy } from '../support/schemaFolderCopy.ts';
import { describeFailures, sleep, startLoad } from '../support/steadyLoad.ts';
import { DEMO_KEY, startTestStack, type TestStack } from '../support/testStack.ts';

// The whole stack on a scratch copy of the schema folder and topology: the articles subgraph already
// serves a new field, as after its deployment; recomposing the supergraph must make the gateway and
// the router serve it, under load, without a failed request and without a restart.
let stack: TestStack;
let copy: SchemaFolderCopy;
const auth = () => bearer(DEMO_KEY);
const WITH_SUBTITLE = 'query Subtitles { articles(first: 2) { edges { node { id title subtitle } } } }';

function recompose(): void {
  for (const target of COMPOSITION_TARGETS) {
    const outcome = composeFromRoverConfig(target.config, copy.root);
    if (!outcome.ok) throw new Error(`${target.name}: ${JSON.stringify(outcome.errors)}`);
    writeFileSync(join(copy.root, target.output), outcome.supergraphSdl);
  }
}

async function reloads(component: string, result: 'applied' | 'failed'): Promise<number> {
  const text = await fetch(`${adminUrl(stack, component)}/metrics`).then((r) => r.text());
  const line = text.split('\n').find((l) => l.startsWith('supergraph_reloads_total{') && l.includes(`result="${result}"`));
  return line ? Number(line.slice(line.lastIndexOf(' ') + 1)) : 0;
}

beforeAll(async () => {
  copy = copySchemaFolder();
  copy.edit('schema/articles.graphql', (sdl) => sdl.replace('  title: String!\n', '  title: String!\n  """A second line under the title."""\n  subtitle: String\n'));
  stack = await startTestStack({
    replicas: 1,
    // The copy's topology names its composed supergraphs; SCHEMA_DIR is where subgraphs read their own SDL.
    env: { TOPOLOGY_FILE: join(copy.root, 'topology.yaml'), SCHEMA_DIR: join(copy.root, 'schema'), SUPERGRAPH_HOT_RELOAD_INTERVAL_MS: '200' },
  });
}, 120_000);

afterAll(async () => {
  await stack?.dispose();
  copy?.remove();
});

describe('hot reload of a recomposed supergraph', () => {
  it('serves a field added to a subgraph once it is composed, with no failed request and no restart', async () => {
    const before = await postGraphQL(stack.routerUrl, { query: WITH_SUBTITLE }, auth());
    expect(before.status).toBe(400);
    expect(before.body.errors?.[0].message).toMatch(/Cannot query field "subtitle" on type "Article"/);
    const pids = Object.fromEntries(['router', 'gateway-commerce', 'gateway-identity'].map((name) => [name, stack.get(name).pid]));

    const load = startLoad({
      concurrency: 4,
      send: (loop) =>
        postGraphQL(stack.routerUrl, { query: loop % 2 ? '{ articles(first: 3) { edges { node { id title price views } } } }' : '{ me { id name } }' }, auth()),
    });
    await sleep(500);
    recompose();
    let after: Awaited<ReturnType<typeof postGraphQL>> | undefined;
    await waitFor(async () => {
      after = await postGraphQL(stack.routerUrl, { query: WITH_SUBTITLE }, auth());
      return after.status === 200 && !after.body.errors;
    }, 15_000);
    await sleep(500);
    const report = await load.stop();

    expect(after!.body.data!.articles.edges[0].node).toEqual({ id: expect.any(String), title: expect.any(String), subtitle: null });
    expect(report.samples.length).toBeGreaterThan(50);
    expect(report.failures, describeFailures(report.failures)).toHaveLength(0);
    for (const [name, pid] of Object.entries(pids)) expect(stack.get(name).pid, `${name} restarted`).toBe(pid);
    expect(await reloads('gateway-commerce', 'applied')).toBe(1);
    expect(await reloads('router', 'applied')).toBe(1);
    // The identity supergraph did not change: its gateway had nothing to switch to.
    expect(await reloads('gateway-identity', 'applied')).toBe(0);
  });

  it('keeps serving the old schema when the new one is broken, and reports it', async () => {
    const failedBefore = await reloads('gateway-commerce', 'failed');
    writeFileSync(join(copy.root, 'schema/commerce.supergraph.graphql'), 'schema @link(url: "https://specs.apollo.dev/link/v1.0") { query: Query }\ntype Query { broken: NoSuchType }\n');
    await waitFor(async () => (await reloads('gateway-commerce', 'failed')) > failedBefore && (await reloads('router', 'failed')) > 0, 10_000);
    const still = await postGraphQL(stack.routerUrl, { query: WITH_SUBTITLE }, auth());
    expect(still.status).toBe(200);
    expect(still.body.errors).toBeUndefined();
    expect(still.body.data!.articles.edges).toHaveLength(2);
  });
});
