import { closeSync, mkdirSync, openSync, readdirSync, readFileSync, readSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { launchScratchStack, type ScratchStack } from '../scripts/launchScratchStack.ts';
import { bearer, postGraphQL, type GraphQLHttpResult } from '../test/support/graphqlClient.ts';
import { postSse } from '../test/support/sseClient.ts';
import { describeFailures, isCleanAnswer, startLoad, type LoadReport } from '../test/support/steadyLoad.ts';
import { BENCH } from './benchSettings.ts';
import { heapGrowth, summariseHeapSnapshot } from './soak/heapSnapshotSummary.ts';

// `npm run bench:soak`: the whole stack under a mixed load (queries, orders, chat streams) for
// SOAK_MINUTES (10), each component's RSS printed every minute, and heap snapshots (SOAK_SNAPSHOT:
// router, gateways, orders-0, chat-0) after the first minute and at the end, summed by constructor:
// what grew, if anything.
// Memory that only plateaus is caches filling to their bounds; memory that keeps climbing is a leak.
const MINUTES = Number(process.env.SOAK_MINUTES ?? 10);
const HEAP_SNAPSHOTS = process.env.SOAK_HEAP_SNAPSHOTS !== '0';
const SNAPSHOTTED = (process.env.SOAK_SNAPSHOT ?? 'router,gateway-identity,gateway-commerce,orders-0,chat-0').split(',');
const KEY = BENCH.demoApiKey;

const QUERIES = [
  '{ me { id name plan quota { remaining } } }',
  '{ articles(first: 5) { edges { node { id title price views sales } } } }',
  '{ myOrders(first: 3) { totalCount edges { node { id total lines { quantity article { id title } } } } } }',
  '{ me { name } topArticles(first: 3) { id title } models { id name } }',
];
const PLACE_ORDER = 'mutation($input: PlaceOrderInput!) { placeOrder(input: $input) { id total } }';
const CHAT = 'subscription($input: ChatInput!) { chatStream(input: $input) { index done } }';

function rssMiB(pid: number | undefined): number {
  if (pid === undefined) return NaN;
  const match = readFileSync(`/proc/${pid}/status`, 'utf8').match(/VmRSS:\s+(\d+) kB/);
  return match ? Number(match[1]) / 1024 : NaN;
}

/** Writes one heap snapshot of a component (it listens for SIGUSR2) and returns its file. */
async function heapSnapshot(stack: ScratchStack, component: string, dir: string): Promise<string> {
  const { pid } = stack.get(component);
  const before = new Set(readdirSync(dir));
  process.kill(pid!, 'SIGUSR2');
  for (let waited = 0; waited < 60_000; waited += 250) {
    await new Promise((resolve) => setTimeout(resolve, 250));
    const file = readdirSync(dir).find((f) => !before.has(f) && f.includes(`.${pid}.`) && f.endsWith('.heapsnapshot'));
    // Written once it ends as a JSON document does (V8 writes it front to back).
    if (file && endsWithBrace(join(dir, file))) return join(dir, file);
  }
  throw new Error(`${component} wrote no heap snapshot`);
}

/** One chat answer read to its end, as a load sample: 200 when chunks came and no error did. */
/** Waits until the router's and both gateways' pools hold every instance and replica healthy again. */
async function allHealthy(stack: ScratchStack): Promise<void> {
  const pools = async (component: string) => {
    const state = (await (await fetch(`http://127.0.0.1:${stack.get(component).adminPort}/internal/state`)).json()) as Record<string, unknown>;
    return Object.values((state.subgraphs ?? state.gateways ?? {}) as Record<string, { replicas: Array<{ healthy: boolean; ejected: boolean }> }>);
  };
  for (let waited = 0; waited < 30_000; waited += 250) {
    const all = (await Promise.all(['router', 'gateway-identity', 'gateway-commerce'].map(pools))).flat();
    if (all.length && all.every((pool) => pool.replicas.every((r) => r.healthy && !r.ejected))) return;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  throw new Error('the pools did not take every instance back within 30 s of the heap snapshots');
}

function endsWithBrace(path: string): boolean {
  const size = statSync(path).size;
  if (size < 2) return false;
  const fd = openSync(path, 'r');
  try {
    const tail = Buffer.alloc(Math.min(16, size));
    readSync(fd, tail, 0, tail.length, size - tail.length);
    return tail.toString('utf8').trimEnd().endsWith('}');
  } finally {
    closeSync(fd);
  }
}

async function chatTurn(stack: ScratchStack, n: number): Promise<GraphQLHttpResult> {
  let chunks = 0;
  const errors: NonNullable<GraphQLHttpResult['body']['errors']> = [];
  for await (const event of postSse(stack.routerUrl, { query: CHAT, variables: { input: { prompt: `soak ${n}: a short answer`, idempotencyKey: `soak-${n}` } } }, bearer(KEY))) {
    const payload = JSON.parse(event.data);
    if (payload.data?.chatStream) chunks += 1;
    errors.push(...(payload.errors ?? []));
  }
  return { status: chunks > 0 ? 200 : 0, contentType: 'text/event-stream', body: errors.length ? { errors } : { data: { chunks } } };
}

/** Runs the soak on a stack whose processes write heap snapshots into `snapshotDir` on SIGUSR2. */
async function soak(snapshotDir: string): Promise<void> {
  const stack = await launchScratchStack({
    demoApiKey: KEY,
    env: {
      NODE_OPTIONS: `--heapsnapshot-signal=SIGUSR2 --diagnostic-dir=${snapshotDir}`,
      // Short answers, many of them: a chat stream costs what it costs, ten minutes' worth.
      CHAT_TOKEN_INTERVAL_MS: '5',
      MAX_STREAMS_PER_CALLER: '1000',
    },
  });
  const store = await stack.database.open();
  try {
    await store.db.updateTable('quotas').set({ limit: 1_000_000_000, used: 0 }).where('user_id', '=', 'u1').execute();
    await store.db.updateTable('articles').set({ stock: 1_000_000_000 }).execute();
  } finally {
    await store.close();
  }
  const run = Date.now();
  let orders = 0;
  let chats = 0;
  // Eight loops of queries, two of orders, two of chat streams, back to back. The load stops while a
  // heap snapshot is written (it freezes the process for seconds): what fails then is the snapshot's.
  const startMixedLoad = () =>
    startLoad({
      concurrency: 12,
      maxPerLoop: Number.MAX_SAFE_INTEGER,
      send: (loop, n) => {
        if (loop < 8) return postGraphQL(stack.routerUrl, { query: QUERIES[(loop + n) % QUERIES.length] }, bearer(KEY));
        if (loop < 10) return postGraphQL(stack.routerUrl, { query: PLACE_ORDER, variables: { input: { idempotencyKey: `soak-${run}-${orders++}`, lines: [{ articleId: `a${1 + (n % 50)}`, quantity: 1 }] } } }, bearer(KEY));
        return chatTurn(stack, run + chats++);
      },
    });
  const snapshotAll = async (into: Record<string, string>) => {
    for (const name of SNAPSHOTTED) into[name] = await heapSnapshot(stack, name, snapshotDir);
    // A frozen process fails its health checks: the load starts again once every pool has it back.
    await allHealthy(stack);
  };
  const components = stack.components.map((c) => c.name);
  const curve = new Map<string, number[]>(components.map((name) => [name, [rssMiB(stack.get(name).pid)]]));
  const reports: LoadReport[] = [];
  const first: Record<string, string> = {};
  const last: Record<string, string> = {};
  let load = startMixedLoad();
  try {
    for (let minute = 1; minute <= MINUTES; minute++) {
      await new Promise((resolve) => setTimeout(resolve, 60_000));
      for (const name of components) curve.get(name)!.push(rssMiB(stack.get(name).pid));
      const failed = reports.reduce((n, r) => n + r.failures.length, 0) + load.samples.filter((s) => !isCleanAnswer(s)).length;
      const count = reports.reduce((n, r) => n + r.samples.length, 0) + load.count;
      console.info(`(soak) minute ${minute}: ${count} requests, ${failed} failed; router ${fmt(curve.get('router')!.at(-1)!)} MiB, gateway-commerce ${fmt(curve.get('gateway-commerce')!.at(-1)!)} MiB`);
      if (minute === 1 && HEAP_SNAPSHOTS) {
        reports.push(await load.stop());
        await snapshotAll(first);
        load = startMixedLoad();
      }
    }
    reports.push(await load.stop());
    if (HEAP_SNAPSHOTS) await snapshotAll(last);
    const samples = reports.reduce((n, r) => n + r.samples.length, 0);
    const failures = reports.flatMap((r) => r.failures);
    printCurve(curve);
    if (HEAP_SNAPSHOTS) console.info('(soak) RSS from 1′ on includes what writing the first heap snapshot took (SOAK_HEAP_SNAPSHOTS=0 for the bare curve)');
    const byLoop = failures.reduce<Record<string, number>>((n, f) => ({ ...n, [f.loop < 8 ? 'queries' : f.loop < 10 ? 'orders' : 'chat']: (n[f.loop < 8 ? 'queries' : f.loop < 10 ? 'orders' : 'chat'] ?? 0) + 1 }), {});
    console.info(`(soak) ${samples} requests in ${MINUTES} min, ${failures.length} failed ${JSON.stringify(byLoop)}${failures.length ? `: the run meets nothing; first failures:\n${describeFailures(failures)}` : ''}`);
    if (HEAP_SNAPSHOTS) printHeapGrowth(first, last);
  } finally {
    await load.stop();
    await stack.dispose();
  }
}

const fmt = (mib: number) => mib.toFixed(0);

function printCurve(curve: Map<string, number[]>): void {
  const minutes = curve.values().next().value!.length;
  console.info(['component'.padEnd(18), ...Array.from({ length: minutes }, (_, m) => `${m}′`.padStart(6)), '  growth from 1′'].join(''));
  for (const [name, values] of curve) {
    const growth = values.length > 1 ? ((values.at(-1)! / values[1] - 1) * 100).toFixed(0) : '–';
    console.info([name.padEnd(18), ...values.map((v) => fmt(v).padStart(6)), `  ${growth}%`].join(''));
  }
}

function printHeapGrowth(first: Record<string, string>, last: Record<string, string>): void {
  for (const name of Object.keys(first)) {
    const before = summariseHeapSnapshot(first[name]);
    const after = summariseHeapSnapshot(last[name]);
    const total = (groups: typeof before) => [...groups.values()].reduce((sum, g) => sum + g.bytes, 0);
    console.info(`(soak heap) ${name}: live heap ${(total(before) / 2 ** 20).toFixed(1)} → ${(total(after) / 2 ** 20).toFixed(1)} MiB; grew most:`);
    for (const g of heapGrowth(before, after, 6)) {
      console.info(`    ${g.name.slice(0, 50).padEnd(50)} ${(g.grewBytes / 1024).toFixed(0).padStart(8)} KiB ${String(g.grewCount).padStart(8)} objects (now ${(g.bytes / 2 ** 20).toFixed(1)} MiB)`);
    }
  }
}

const snapshotDir = join(process.env.SOAK_DIR ?? tmpdir(), `soak-heap-${process.pid}`);
mkdirSync(snapshotDir, { recursive: true });
console.info(`(soak) ${MINUTES} minutes; heap snapshots in ${snapshotDir}`);
await soak(snapshotDir);
