import { randomBytes } from 'node:crypto';
import { loadavg } from 'node:os';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildBundles } from '../scripts/buildBundles.ts';
import { buildBenchScripts } from './federation/buildBenchScripts.ts';
import { composeDemoSupergraph, DEMO_QUERY, GUILD_QUERY } from './federation/demoSubgraphs.ts';
import type { MeasureAnswer } from './federation/loadGenerator.ts';
import { ProcessCpu } from './federation/processCpu.ts';
import { spawnPinned, type PinnedProcess } from './federation/spawnPinned.ts';
import { sourceResolver, summariseCpuProfile, type CpuProfile } from './federation/summariseCpuProfile.ts';

// `node --import tsx bench/routerCost.ts`: what the router itself costs per request, and the bare
// forwarding proxy beside it, in front of a canned gateway that answers every request at once with
// the same bytes (so the only process measured is the one in front). For profiling the router's
// own work (ROUTER_COST_PROF_DIR runs it under --cpu-prof); not part of `npm run bench`.
const concurrency = Number(process.env.BENCH_CONCURRENCY ?? 16);
const durationMs = Number(process.env.BENCH_DURATION_MS ?? 4_000);
const profDir = process.env.ROUTER_COST_PROF_DIR;
const answerBytes = Number(process.env.ROUTER_COST_ANSWER_BYTES ?? 8_000);
const query = process.env.ROUTER_COST_QUERY === 'guild' ? GUILD_QUERY : DEMO_QUERY;

const dir = mkdtempSync(join(tmpdir(), 'router-cost-'));
const secret = randomBytes(24).toString('hex');
const canned = `{"data":{"pad":"${'x'.repeat(Math.max(0, answerBytes - 20))}"}}`;
const started: PinnedProcess[] = [];
try {
  const scripts = await buildBenchScripts();
  const bundles = await buildBundles();
  const gateway = await spawnPinned('canned', { cpu: 1, script: scripts.cannedGatewayServer, env: { CANNED_BODY: canned } });
  started.push(gateway);
  const load = await spawnPinned('load', { cpu: 1, script: scripts.loadGenerator, env: { INTERNAL_SECRET: secret } });
  started.push(load);
  const gatewayUrl = `http://127.0.0.1:${gateway.ready.port}/graphql`;
  writeFileSync(join(dir, 'shop.supergraph.graphql'), composeDemoSupergraph({ accounts: gatewayUrl, products: gatewayUrl, inventory: gatewayUrl, reviews: gatewayUrl }));
  writeFileSync(join(dir, 'topology.yaml'), 'auth: { apiKeys: none }\nsupergraphs:\n  shop:\n    schema: shop.supergraph.graphql\n    fallback: none\n');
  const env = { NODE_ENV: 'production', LOG_LEVEL: 'warn', TOPOLOGY_FILE: join(dir, 'topology.yaml'), INTERNAL_SECRET: secret, PORT: '0', ADMIN_PORT: '0', RATE_LIMIT_ANONYMOUS: '1000000/1', SHOP_GATEWAY_URLS: gatewayUrl };
  const prof = (name: string) => (profDir ? ['--cpu-prof', `--cpu-prof-dir=${join(profDir, name)}`] : []);
  const router = await spawnPinned('router', { cpu: 0, script: bundles.router, nodeArgs: prof('router'), env: { ...env, ...(process.env.UPSTREAM_PROTOCOL ? { UPSTREAM_PROTOCOL: process.env.UPSTREAM_PROTOCOL } : {}) } });
  started.push(router);
  const proxy = await spawnPinned('proxy', { cpu: 0, script: scripts.bareProxyServer, nodeArgs: prof('proxy'), env: { GATEWAY_URL: gatewayUrl, INTERNAL_SECRET: secret } });
  started.push(proxy);
  let id = 0;
  const measure = async (port: unknown, ms: number, inFlight = concurrency) => {
    const answer = await load.ask<MeasureAnswer>({ id: ++id, url: `http://127.0.0.1:${port}/graphql`, body: JSON.stringify({ query }), signed: false, concurrency: inFlight, durationMs: ms });
    if (!answer.result) throw new Error(answer.error);
    return answer.result;
  };
  const targets = [['router', router], ['proxy', proxy]] as const;
  for (const [, target] of targets) await measure(target.ready.port, 4_000);
  const fromUs = Number(process.hrtime.bigint() / 1000n);
  const samples: Record<string, { cpu: number[]; p50: number[]; single: number[]; failures: number }> = { router: { cpu: [], p50: [], single: [], failures: 0 }, proxy: { cpu: [], p50: [], single: [], failures: 0 } };
  const rounds = Number(process.env.BENCH_ROUNDS ?? 3);
  for (let round = 0; round < rounds; round++) {
    for (const [name, target] of targets) {
      const cpu = new ProcessCpu([target.pid]);
      const before = cpu.readMs();
      const result = await measure(target.ready.port, durationMs);
      samples[name].cpu.push(((cpu.readMs() - before) * 1000) / result.requests);
      samples[name].p50.push(result.p50Ms);
      samples[name].failures += result.failures;
      samples[name].single.push((await measure(target.ready.port, durationMs / 4, 1)).p50Ms);
    }
  }
  const toUs = Number(process.hrtime.bigint() / 1000n);
  const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
  console.log(`router cost: ${rounds} rounds, ${concurrency} in flight, ${answerBytes} B answers; load average ${loadavg()[0].toFixed(1)}`);
  for (const [name] of targets) {
    const s = samples[name];
    console.log(`  ${name.padEnd(7)} ${median(s.cpu).toFixed(0).padStart(5)} µs CPU/req (rounds ${s.cpu.map((v) => v.toFixed(0)).join(', ')}), p50 ${median(s.p50).toFixed(2)} ms, one in flight p50 ${median(s.single).toFixed(3)} ms, failures ${s.failures}`);
  }
  if (profDir) {
    // Profiles are written when the processes exit: stop them, then read the loaded window only.
    for (const child of started.reverse().splice(0)) await child.stop();
    const where = sourceResolver();
    for (const name of ['router', 'proxy']) {
      const folder = join(profDir, name);
      const [file] = readdirSync(folder).map((f) => join(folder, f)).sort((a, b) => statSync(b).size - statSync(a).size);
      const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
      const summary = summariseCpuProfile(profile, { fromUs, toUs }, where);
      console.log(`\n── ${name}: ${summary.totalMs.toFixed(0)} ms of samples in the measured window`);
      for (const g of summary.byGroup.slice(0, 10)) console.log(`   ${((100 * g.ms) / summary.totalMs).toFixed(1).padStart(5)}%  ${g.name}`);
      for (const f of summary.bySelf.slice(0, Number(process.env.ROUTER_COST_TOP ?? 40))) console.log(`   ${((100 * f.ms) / summary.totalMs).toFixed(1).padStart(5)}%  ${f.name.slice(0, 40).padEnd(40)} ${f.where}`);
      if (name === 'router') for (const f of summary.oursInclusive.slice(0, 30)) console.log(`   incl ${((100 * f.ms) / summary.totalMs).toFixed(1).padStart(5)}%  ${f.name.slice(0, 40).padEnd(40)} ${f.where}`);
    }
  }
} finally {
  for (const process of started.reverse()) await process.stop();
  rmSync(dir, { recursive: true, force: true });
}
