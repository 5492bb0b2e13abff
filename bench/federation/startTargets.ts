import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildBundles } from '../../scripts/buildBundles.ts';
import { buildBenchScripts } from './buildBenchScripts.ts';
import { BENCH_SHAPES, type ShapeKey } from './benchShapes.ts';
import type { TargetKey } from './federationSettings.ts';
import type { AlternateRequest, MeasureAnswer, MeasureRequest } from './loadGenerator.ts';
import { spawnPinned, type PinnedProcess } from './spawnPinned.ts';

export const TARGET_LABELS: Record<TargetKey, string> = {
  a: '(a) @apollo/server + @apollo/gateway',
  b: '(b) Hive Gateway',
  c: '(c) our gateway',
  d: '(d) our router + gateway',
  e: '(e) bare proxy + our gateway (floor)',
  f: '(f) Hive Gateway + router-runtime (Rust)',
};

/** One gateway under test: where to send, and every process whose CPU it costs. */
export interface Target {
  key: TargetKey;
  label: string;
  url: string;
  /** Requests need the router's signed principal (our gateway addressed directly). */
  signed: boolean;
  processes: PinnedProcess[];
}

export interface FederationBenchOptions {
  targets: readonly TargetKey[];
  targetCpu: number;
  loadCpu: number;
  nodeEnv: string;
  /** Which subgraphs and supergraph (the query is the shape's too). @default 'demo' */
  shape?: ShapeKey;
  /** Run every target process under `node --cpu-prof`, writing its profiles into `<here>/<key>-<role>/`. */
  cpuProfDir?: string;
}

export interface FederationBench {
  targets: Target[];
  /** The subgraphs' and the load generator's processes (on `loadCpu`), to tell when that core is the limit. */
  helpers: PinnedProcess[];
  /** Requests the four subgraphs have received so far, together. */
  subgraphRequests(): Promise<number>;
  /** One closed-loop measurement by the load generator. */
  measure(request: Omit<MeasureRequest, 'id'>): Promise<NonNullable<MeasureAnswer['result']>>;
  /** One request in flight, the targets taking turns, by the load generator. */
  alternate(request: Omit<AlternateRequest, 'id' | 'kind'>): Promise<NonNullable<MeasureAnswer['alternating']>>;
  /** Stops every process (targets first, so profiles are written) and removes the temp folder. */
  close(): Promise<void>;
}

/**
 * Starts the benchmark's process trees: the shape's subgraphs and the load generator on `loadCpu`, and
 * each target on `targetCpu`, all on one composed supergraph whose routing URLs are those subgraphs.
 */
export async function startFederationBench(options: FederationBenchOptions): Promise<FederationBench> {
  const dir = mkdtempSync(join(tmpdir(), 'federation-bench-'));
  const secret = randomBytes(24).toString('hex');
  const started: PinnedProcess[] = [];
  const scripts = await buildBenchScripts();
  const pinned = async (name: string, cpu: number, script: string, args: string[] = [], env: Record<string, string> = {}) => {
    // A folder per process: every thread with a JS isolate writes a profile of its own; the main thread's is the largest.
    const profile = options.cpuProfDir && cpu === options.targetCpu ? ['--cpu-prof', `--cpu-prof-dir=${join(options.cpuProfDir, name)}`] : [];
    const child = await spawnPinned(name, { cpu, script, nodeArgs: profile, args, env });
    started.push(child);
    return child;
  };
  try {
    const shape = BENCH_SHAPES[options.shape ?? 'demo'];
    const subgraphs = await pinned('subgraphs', options.loadCpu, scripts.subgraphsServer, [], { BENCH_SHAPE: shape.key });
    const load = await pinned('load', options.loadCpu, scripts.loadGenerator, [], { INTERNAL_SECRET: secret });
    const supergraphFile = join(dir, 'shop.supergraph.graphql');
    writeFileSync(supergraphFile, shape.compose(subgraphs.ready.urls as Record<string, string>));
    // The shapes' subgraphs serve /healthz: probing it keeps the health checks out of their fetch counts.
    const healthPaths = shape.subgraphs.map((subgraph) => `      ${subgraph}: { healthCheck: /healthz }`);
    writeFileSync(join(dir, 'topology.yaml'), ['auth: { apiKeys: none }', 'supergraphs:', '  shop:', '    schema: shop.supergraph.graphql', '    fallback: none', '    subgraphs:', ...healthPaths, ''].join('\n'));
    const bundles = await buildBundles();
    const common = { NODE_ENV: options.nodeEnv, LOG_LEVEL: 'warn' };
    const ours = {
      ...common,
      TOPOLOGY_FILE: join(dir, 'topology.yaml'),
      INTERNAL_SECRET: secret,
      PORT: '0',
      ADMIN_PORT: '0',
      // A benchmark sends far more than a client may; the limiter still runs, as in production.
      RATE_LIMIT_ANONYMOUS: '1000000/1',
      // The Guild's TestQuery estimates far above the default cost ceiling (lists nested five deep): an
      // operator serving it raises the ceiling, and the cost analysis still runs on every request.
      MAX_COST: '100000000',
    };
    const urlOf = (p: PinnedProcess) => `http://127.0.0.1:${p.ready.port}/graphql`;
    const targets: Target[] = [];
    for (const key of options.targets) {
      const label = TARGET_LABELS[key];
      if (key === 'a' || key === 'b' || key === 'f') {
        const script = key === 'a' ? scripts.apolloGatewayServer : scripts.hiveGatewayServer;
        const server = await pinned(`${key}-gateway`, options.targetCpu, script, [], { ...common, SUPERGRAPH_FILE: supergraphFile, ...(key === 'f' ? { HIVE_ROUTER_RUNTIME: '1' } : {}) });
        targets.push({ key, label, url: key === 'a' ? `http://127.0.0.1:${server.ready.port}/` : urlOf(server), signed: false, processes: [server] });
      } else {
        const gateway = await pinned(`${key}-gateway`, options.targetCpu, bundles.gateway, ['shop'], ours);
        if (key === 'c') {
          targets.push({ key, label, url: urlOf(gateway), signed: true, processes: [gateway] });
        } else if (key === 'e') {
          const proxy = await pinned(`${key}-proxy`, options.targetCpu, scripts.bareProxyServer, [], { ...common, GATEWAY_URL: urlOf(gateway), INTERNAL_SECRET: secret });
          targets.push({ key, label, url: `http://127.0.0.1:${proxy.ready.port}/graphql`, signed: false, processes: [proxy, gateway] });
        } else {
          const router = await pinned(`${key}-router`, options.targetCpu, bundles.router, [], { ...ours, SHOP_GATEWAY_URLS: urlOf(gateway) });
          targets.push({ key, label, url: urlOf(router), signed: false, processes: [router, gateway] });
        }
      }
    }
    let sequence = 0;
    return {
      targets,
      helpers: [subgraphs, load],
      subgraphRequests: async () => (await subgraphs.ask<{ requests: number }>({ type: 'count' })).requests,
      async measure(request) {
        const answer = await load.ask<MeasureAnswer>({ ...request, id: ++sequence });
        if (!answer.result) throw new Error(`load generator: ${answer.error}`);
        return answer.result;
      },
      async alternate(request) {
        const answer = await load.ask<MeasureAnswer>({ ...request, kind: 'alternate', id: ++sequence });
        if (!answer.alternating) throw new Error(`load generator: ${answer.error}`);
        return answer.alternating;
      },
      async close() {
        await Promise.all(started.filter((p) => p !== subgraphs && p !== load).map((p) => p.stop()));
        await Promise.all([subgraphs.stop(), load.stop()]);
        rmSync(dir, { recursive: true, force: true });
      },
    };
  } catch (error) {
    await Promise.all(started.map((p) => p.stop()));
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
}
