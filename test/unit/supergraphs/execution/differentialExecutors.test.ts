import { Supergraph } from '@apollo/federation-internals';
import { buildEnforcedSupergraph } from '../../../../lib/authorization/enforcedSupergraph.ts';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { composeDemoSupergraph, DEMO_QUERY, DEMO_SUBGRAPHS, startDemoSubgraph, type DemoSubgraphName } from '../../../../bench/federation/demoSubgraphs.ts';
import { composeGuildSupergraph, GUILD_QUERY, GUILD_SUBGRAPHS, startGuildSubgraph, type GuildSubgraphName } from '../../../../bench/federation/guildSubgraphs.ts';
import { loadConfig } from '../../../../lib/config.ts';
import { PRINCIPAL_HEADER, signPrincipal, type Principal } from '../../../../lib/principal.ts';
import { createGateway, type Gateway } from '../../../../supergraphs/createGateway.ts';
import { startFaultSwitch, type FaultSwitch } from '../../../support/faultSwitch.ts';
import { generateOperations, type GeneratedOperation } from '../../../support/generateOperations.ts';
import { referenceSupergraphSdl } from '../../../support/referenceSupergraph.ts';
import { startSubgraphs, TEST_SECRET, type SubgraphHarness } from '../../../integration/subgraphs/subgraphHarness.ts';

// Our plan executor against @apollo/gateway's, on the same supergraph, the same subgraphs and the same
// generated operations (the demo's and The Guild benchmark's supergraphs, the reference identity and
// commerce ones): two gateways in this process (GATEWAY_EXECUTOR=own and =apollo), every subgraph
// behind a switch that makes it fail. Both must answer the same `data` (same field order: compared as
// JSON text), the same `extensions.valueCompletion`, and errors with the same codes, subgraphs, paths
// and fallbacks; healthy, then with each subgraph failing in turn (the operations that reach it, on a
// fresh pair of gateways that first ran them healthy, so a `cache` fallback has answers to serve).
// The two gateways must fail alike: no deadline adapted to a latency the shared machine's load can
// stretch (a healthy call timed out by one gateway only), no hedge, no probe timing out under load.
const STEADY = { ADAPTIVE_DEADLINE_ENABLED: 'false', HEDGE_ENABLED: 'false', HEALTH_CHECK_TIMEOUT_MS: '3000' };
const SECRET = TEST_SECRET;
const quiet = pino({ level: 'silent' });

interface Answer {
  status: number;
  data: string;
  errors: string[];
  valueCompletion: string;
}

interface Subject {
  name: string;
  sdl: string;
  /** Subgraph name → its server's URL. */
  targets: Record<string, string>;
  principal: Principal;
  operations: GeneratedOperation[];
}

/** An answer reduced to what both executors must agree on; errors sorted (parallel fetches finish in any order). */
function reduce(status: number, body: { data?: unknown; errors?: Array<Record<string, unknown>>; extensions?: { valueCompletion?: unknown } }): Answer {
  const errors = (body.errors ?? []).map((e) => {
    const extensions = (e.extensions ?? {}) as Record<string, unknown>;
    const fallback = extensions.fallback as { source?: string } | undefined;
    return JSON.stringify({ message: e.message, path: e.path, code: extensions.code, serviceName: extensions.serviceName, fallback: fallback?.source});
  });
  return { status, data: JSON.stringify(body.data), errors: errors.sort(), valueCompletion: JSON.stringify(body.extensions?.valueCompletion) };
}

async function ask(gateway: Gateway, principal: Principal, operation: GeneratedOperation): Promise<Answer> {
  const response = await gateway.fetch('http://gateway/graphql', {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json', [PRINCIPAL_HEADER]: signPrincipal(principal, SECRET) },
    body: JSON.stringify({ query: operation.query, variables: operation.variables }),
  });
  return reduce(response.status, await response.json());
}

/** A gateway pair on `subject`'s supergraph, every subgraph reached through its switch. */
async function gatewayPair(subject: Subject, switches: Record<string, FaultSwitch>): Promise<Record<'own' | 'apollo', Gateway>> {
  const subgraphUrls = Object.fromEntries(Object.entries(switches).map(([name, s]) => [name, [s.url]]));
  const make = (executor: 'own' | 'apollo') =>
    createGateway({
      name: subject.name,
      config: loadConfig({ INTERNAL_SECRET: SECRET, GATEWAY_EXECUTOR: executor, ...STEADY }),
      internalSecret: SECRET,
      supergraphSdl: subject.sdl,
      subgraphUrls,
      logger: quiet,
    });
  return { own: await make('own'), apollo: await make('apollo') };
}

/**
 * Runs `operations` on both gateways, one after the other, each difference failing an expect. Returns
 * how many answered with errors, their errors, and the subgraphs each operation reached (by the
 * switches' counts: the operations run one at a time).
 */
async function compareAll(subject: Subject, pair: Record<'own' | 'apollo', Gateway>, scenario: string, operations: GeneratedOperation[], switches: Record<string, FaultSwitch>) {
  let withErrors = 0;
  const errors: string[] = [];
  const reached = new Map<GeneratedOperation, string[]>();
  for (const operation of operations) {
    const before = Object.fromEntries(Object.entries(switches).map(([name, s]) => [name, s.posts]));
    const apollo = await ask(pair.apollo, subject.principal, operation);
    const own = await ask(pair.own, subject.principal, operation);
    expect(own, `${subject.name}, ${scenario}: ${operation.name}\n${operation.query}\n${JSON.stringify(operation.variables)}`).toEqual(apollo);
    reached.set(operation, Object.keys(switches).filter((name) => switches[name].posts > before[name]));
    if (apollo.errors.length) withErrors++;
    errors.push(...apollo.errors);
  }
  return { withErrors, errors, reached };
}

/** Runs `operations` on both gateways without comparing: what a fresh pair has cached before a failure. */
async function warm(subject: Subject, pair: Record<'own' | 'apollo', Gateway>, operations: GeneratedOperation[]): Promise<void> {
  for (const operation of operations) await Promise.all([ask(pair.apollo, subject.principal, operation), ask(pair.own, subject.principal, operation)]);
}

const subjects: Subject[] = [];
const closers: Array<() => Promise<unknown>> = [];
let harness: SubgraphHarness | undefined;

beforeAll(async () => {
  // The federation benchmark's demo supergraph (its own query among the operations).
  const demo: Record<string, string> = {};
  for (const name of DEMO_SUBGRAPHS) {
    // Memoised: a repeated fetch costs a lookup, and the comparison, not the demo's resolvers, is what runs.
    const subgraph = await startDemoSubgraph(name, { memoise: true });
    closers.push(() => subgraph.close());
    demo[name] = subgraph.url;
  }
  const demoSdl = composeDemoSupergraph(demo as Record<DemoSubgraphName, string>);
  subjects.push({
    name: 'demo',
    sdl: demoSdl,
    targets: demo,
    principal: { scopes: [] },
    operations: [{ name: 'DEMO_QUERY', query: DEMO_QUERY }, ...generateOperations(Supergraph.build(demoSdl).apiSchema().toGraphQLJSSchema(), { depth: 3, argumentValues: { 'Query.topProducts.first': 3 } })],
  });

  // The Guild gateways benchmark's supergraph (@provides, @requires; its TestQuery among the operations).
  const guild: Record<string, string> = {};
  for (const name of GUILD_SUBGRAPHS) {
    const subgraph = await startGuildSubgraph(name, { memoise: true });
    closers.push(() => subgraph.close());
    guild[name] = subgraph.url;
  }
  const guildSdl = composeGuildSupergraph(guild as Record<GuildSubgraphName, string>);
  subjects.push({
    name: 'guild',
    sdl: guildSdl,
    targets: guild,
    principal: { scopes: [] },
    operations: [{ name: 'TestQuery', query: GUILD_QUERY }, ...generateOperations(Supergraph.build(guildSdl).apiSchema().toGraphQLJSSchema(), { depth: 3, argumentValues: { 'Query.user.id': '2' } })],
  });

  // The reference supergraphs on real subgraphs over one seeded database (chat left out: its root fields
  // need a model backend, and the rest of commerce does not reach it).
  harness = await startSubgraphs(['auth', 'users', 'quota', 'orders', 'articles', 'analytics']);
  const urls = Object.fromEntries(Object.entries(harness.servers).map(([name, s]) => [name, s.url]));
  const argumentValues = { 'Query.article.id': 'a1', 'Query.order.id': 'o1', ID: 'u1' };
  for (const [name, owned] of [
    ['identity', ['auth', 'users', 'quota']],
    ['commerce', ['orders', 'articles', 'analytics']],
  ] as const) {
    const sdl = referenceSupergraphSdl(name);
    const schema = buildEnforcedSupergraph(sdl).apiSchema().toGraphQLJSSchema(); // the reference ones link the authorization directives
    subjects.push({
      name,
      sdl,
      targets: Object.fromEntries(owned.map((s) => [s, urls[s]])),
      principal: { userId: 'u1', scopes: ['orders:write', 'chat'] },
      operations: generateOperations(schema, { depth: 3, argumentValues, skipRootFields: ['models', 'conversation', 'conversations', 'chatUsage'] }),
    });
  }
}, 120_000);

afterAll(async () => {
  await Promise.all(closers.map((close) => close()));
  await harness?.dispose();
});

describe.each(['demo', 'guild', 'identity', 'commerce'])('our executor against Apollo’s on the %s supergraph', (name) => {
  const subject = () => subjects.find((s) => s.name === name)!;

  it('generates operations over every reachable field', () => {
    expect(subject().operations.length).toBeGreaterThanOrEqual(8);
  });

  it('answers every operation alike, healthy and with each subgraph failing in turn', async () => {
    const { targets, operations } = subject();
    // Healthy once, on a pair of its own; it also tells which operations reach each subgraph. Those are
    // the ones a subgraph's failure can change: each failure runs them on a fresh pair (no breaker or
    // ejection left from the one before) that first ran them healthy, so a `cache` fallback has answers.
    let reached = new Map<GeneratedOperation, string[]>();
    for (const failing of [undefined, ...Object.keys(targets)]) {
      const switches: Record<string, FaultSwitch> = {};
      for (const [subgraph, url] of Object.entries(targets)) switches[subgraph] = await startFaultSwitch(url);
      const pair = await gatewayPair(subject(), switches);
      try {
        if (!failing) {
          const healthy = await compareAll(subject(), pair, 'healthy', operations, switches);
          expect(healthy.withErrors).toBe(0);
          reached = healthy.reached;
          continue;
        }
        const affected = operations.filter((operation) => reached.get(operation)!.includes(failing));
        expect(affected.length, `operations reaching ${failing}`).toBeGreaterThan(0);
        await warm(subject(), pair, affected);
        switches[failing].setFailing(true);
        const failed = await compareAll(subject(), pair, `${failing} failing`, affected, switches);
        // The failure must show: operations that reach the subgraph carry its error, on a field's path.
        expect(failed.withErrors, `${failing} failing`).toBeGreaterThan(0);
        for (const error of failed.errors.map((e) => JSON.parse(e) as { code: string; serviceName: string; path?: unknown[] })) {
          expect(error).toMatchObject({ code: expect.stringMatching(/^(DOWNSTREAM_SERVICE_ERROR|GATEWAY_TIMEOUT)$/), serviceName: failing });
          expect(error.path?.length).toBeGreaterThan(0);
        }
      } finally {
        await Promise.all([pair.own.close(), pair.apollo.close()]);
        await Promise.all(Object.values(switches).map((s) => s.close()));
      }
    }
  }, 300_000);
});
