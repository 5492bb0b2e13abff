import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createWriteStream, mkdirSync } from 'node:fs';
import { buildBundles } from './buildBundles.ts';
import { loadTopology, replicaPortOf, subgraphsOf } from '../lib/topology/loadTopology.ts';
import { isSubgraphName, type SubgraphName } from '../subgraphs/subgraphNames.ts';

/** Replicas `npm start` runs per subgraph. */
const DEFAULT_REPLICAS = 2;

/** One child process of the stack. */
export interface Component {
  /** `router`, `gateway-identity`, `orders-0`, ... */
  name: string;
  kind: 'router' | 'gateway' | 'subgraph';
  port: number;
  /** Port of its admin listener (`/internal/state`, `/metrics`); router and gateways only. */
  adminPort?: number;
  pid: number | undefined;
  /** Undefined once it has exited. */
  process: ChildProcess | undefined;
}

export interface StackOptions {
  /** Replicas per subgraph. @default 2 */
  replicas?: number;
  /** `default` listens on the well-known ports; `ephemeral` asks every child for a free port. @default 'ephemeral' */
  ports?: 'default' | 'ephemeral';
  /** Environment for every child (DATABASE_PATH, INTERNAL_SECRET, DEMO_API_KEY, REDIS_URL, ...). */
  env?: Record<string, string | undefined>;
  /** Where children's output goes: the parent's terminal, a folder of log files, or nowhere. @default 'ignore' */
  output?: 'inherit' | 'ignore' | { dir: string };
  /** Called when a child exits that nobody asked to stop. */
  onUnexpectedExit?(component: Component, code: number | null, signal: NodeJS.Signals | null): void;
  /** How long one stage may take to become ready. @default 60000 */
  readyTimeoutMs?: number;
  /**
   * Rewrites the URL under which the gateways reach one replica (`component` is e.g. `articles-1`),
   * so a test can put a fault-injecting proxy in front of it; the replica itself is unchanged.
   * @default the replica's own URL
   */
  replicaUrl?(component: string, url: string): string | Promise<string>;
}

export interface Stack {
  routerUrl: string;
  components: Component[];
  env: Record<string, string>;
  get(name: string): Component;
  /** Kills a component (SIGKILL by default) and waits for it to be gone. */
  kill(name: string, signal?: NodeJS.Signals): Promise<void>;
  /** Starts a stopped component again on the same port. */
  restart(name: string): Promise<void>;
  /** Stops every component, router first. Idempotent. */
  stop(): Promise<void>;
}


/**
 * Launches the whole stack as separate processes: every subgraph replica, then the gateways (given the
 * replicas' URLs), then the router (given the gateways' URLs). Used by `npm start`, the tests and the
 * benchmarks, so all three run exactly what a deployment runs.
 */
export async function launchStack(options: StackOptions = {}): Promise<Stack> {
  const replicas = options.replicas ?? DEFAULT_REPLICAS;
  const topology = loadTopology(options.env?.TOPOLOGY_FILE ?? process.env.TOPOLOGY_FILE ?? undefined);
  const ephemeral = (options.ports ?? 'ephemeral') === 'ephemeral';
  const readyTimeoutMs = options.readyTimeoutMs ?? 60_000;
  const env: Record<string, string> = {
    INTERNAL_SECRET: randomBytes(24).toString('hex'),
    ...Object.fromEntries(Object.entries(options.env ?? {}).filter((e): e is [string, string] => e[1] !== undefined)),
  };
  const components = new Map<string, Component & { args: string[]; extraEnv: Record<string, string> }>();
  const stopping = new Set<string>();
  let stopped = false;
  const entries = await buildBundles();

  function spawnComponent(component: Component & { args: string[]; extraEnv: Record<string, string> }): Promise<void> {
    const stdio = childStdio(options.output, component.name);
    const child = spawn(process.execPath, ['--enable-source-maps', entries[component.kind], ...component.args], {
      env: {
        ...process.env,
        ...env,
        ...component.extraEnv,
        PORT: String(component.port),
        ...(component.adminPort !== undefined ? { ADMIN_PORT: String(component.adminPort) } : {}),
      },
      stdio: [stdio.in, stdio.out, stdio.err, 'ipc'],
    });
    stdio.attach?.(child);
    component.process = child;
    component.pid = child.pid;
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        reject(new Error(`${component.name} was not ready within ${readyTimeoutMs} ms`));
      }, readyTimeoutMs);
      child.on('message', (message: { type?: string; port?: number; adminPort?: number }) => {
        if (message?.type === 'ready' && typeof message.port === 'number') {
          clearTimeout(timer);
          component.port = message.port;
          // Kept, so a restart binds the same admin port again.
          if (typeof message.adminPort === 'number') component.adminPort = message.adminPort;
          resolve();
        }
      });
      child.once('exit', (code, signal) => {
        clearTimeout(timer);
        component.process = undefined;
        const expected = stopped || stopping.has(component.name);
        stopping.delete(component.name);
        reject(new Error(`${component.name} exited before it was ready (code ${code}, signal ${signal})`));
        if (!expected) options.onUnexpectedExit?.(component, code, signal);
      });
    });
  }

  function add(name: string, kind: Component['kind'], port: number, args: string[], extraEnv: Record<string, string> = {}, adminPort?: number) {
    const component = {
      name,
      kind,
      port: ephemeral ? 0 : port,
      adminPort: adminPort === undefined ? undefined : ephemeral ? 0 : adminPort,
      pid: undefined,
      process: undefined,
      args,
      extraEnv,
    };
    components.set(name, component);
    return component;
  }

  const stack: Stack = {
    routerUrl: '',
    env,
    get components() {
      return [...components.values()];
    },
    get(name) {
      const component = components.get(name);
      if (!component) throw new Error(`no component named ${name}`);
      return component;
    },
    async kill(name, signal = 'SIGKILL') {
      const component = stack.get(name);
      const child = component.process;
      if (!child) return;
      stopping.add(name);
      const gone = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      child.kill(signal);
      await gone;
    },
    async restart(name) {
      const component = components.get(name);
      if (!component) throw new Error(`no component named ${name}`);
      if (component.process) return;
      await spawnComponent(component);
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      const order: Component['kind'][] = ['router', 'gateway', 'subgraph'];
      for (const kind of order) {
        await Promise.all(
          [...components.values()]
            .filter((c) => c.kind === kind && c.process)
            .map((c) => terminate(c.process!)),
        );
      }
    },
  };

  try {
    // The subgraphs this project ships, as the topology places them; a topology naming others is
    // someone else's deployment, which this launcher cannot start.
    const named = subgraphsOf(topology).map((s) => s.subgraph);
    const foreign = named.filter((name) => !isSubgraphName(name));
    if (foreign.length) throw new Error(`the topology ${topology.file} names subgraphs this project does not ship: ${foreign.join(', ')}`);
    const subgraphs = named.flatMap((name) =>
      Array.from({ length: replicas }, (_, i) =>
        add(`${name}-${i}`, 'subgraph', replicaPortOf(topology, name, i) ?? 0, [name, '--replica', String(i)]),
      ),
    );
    await Promise.all(subgraphs.map(spawnComponent));
    const replicaUrl = options.replicaUrl ?? ((_component: string, url: string) => url);
    const subgraphUrls = Object.fromEntries(
      await Promise.all(
        named.map(async (name) => {
          const replicas = subgraphs.filter((c) => c.args[0] === name);
          const urls = await Promise.all(replicas.map((c) => replicaUrl(c.name, `http://127.0.0.1:${c.port}/graphql`)));
          return [`${name.toUpperCase()}_URLS`, urls.join(',')];
        }),
      ),
    );
    const gateways = Object.values(topology.supergraphs).map(({ name, gateway }) =>
      add(`gateway-${name}`, 'gateway', gateway.port, [name], subgraphUrls, gateway.adminPort),
    );
    await Promise.all(gateways.map(spawnComponent));
    const gatewayUrls = Object.fromEntries(
      gateways.map((c) => [`${c.args[0].toUpperCase()}_GATEWAY_URLS`, `http://127.0.0.1:${c.port}/graphql`]),
    );
    const router = add('router', 'router', topology.router.port, [], gatewayUrls, topology.router.adminPort);
    await spawnComponent(router);
    stack.routerUrl = `http://127.0.0.1:${router.port}/graphql`;
    return stack;
  } catch (error) {
    await stack.stop();
    throw error;
  }
}

/** SIGTERM, then SIGKILL if the child has not drained within `graceMs`. */
function terminate(child: ChildProcess, graceMs = 5_000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

function childStdio(output: StackOptions['output'], name: string) {
  if (output === 'inherit') return { in: 'ignore' as const, out: 'inherit' as const, err: 'inherit' as const };
  if (output && typeof output === 'object') {
    mkdirSync(output.dir, { recursive: true });
    return {
      in: 'ignore' as const,
      out: 'pipe' as const,
      err: 'pipe' as const,
      attach(child: ChildProcess) {
        const file = createWriteStream(`${output.dir}/${name}.log`, { flags: 'a' });
        child.stdout?.pipe(file);
        child.stderr?.pipe(file);
      },
    };
  }
  return { in: 'ignore' as const, out: 'ignore' as const, err: 'ignore' as const };
}

export type { SubgraphName };
