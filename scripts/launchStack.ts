import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createWriteStream, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildBundles } from './buildBundles.ts';
import { findExecutable } from './findExecutable.ts';
import { freePort } from './freePort.ts';
import { drainNoticeFor, haproxyEnvironment, readBalancedServers, type HaproxyChecks } from './haproxySettings.ts';
import { renderHaproxyConfig } from './renderHaproxyConfig.ts';
import { waitForPort } from './waitForPort.ts';
import { loadTopology, replicaPortOf, subgraphsOf } from '../lib/topology/loadTopology.ts';
import { isSubgraphName, type SubgraphName } from '../subgraphs/subgraphNames.ts';

/** Replicas `npm start` runs per subgraph. */
const DEFAULT_REPLICAS = 2;

/** One child process of the stack. */
export interface Component {
  /** `router` (`router-0`, `router-1`, ... behind `haproxy`), `gateway-identity`, `orders-0`, `redis`, ... */
  name: string;
  kind: 'router' | 'gateway' | 'subgraph' | 'balancer' | 'redis';
  port: number;
  /** Port of its admin listener (`/internal/state`, `/metrics`; HAProxy's `/stats`); routers, gateways and the balancer. */
  adminPort?: number;
  pid: number | undefined;
  /** Undefined once it has exited. */
  process: ChildProcess | undefined;
}

export interface StackOptions {
  /** Replicas per subgraph. @default 2 */
  replicas?: number;
  /**
   * Routers. More than one run behind HAProxy, which takes the router's port, and share their edge
   * state through Redis: REDIS_URL in `env`, else a redis-server this launcher starts (the in-memory
   * stores are each process's own).
   * @default 1
   */
  routers?: number;
  /** HAProxy's health-check timings, with several routers. @default the production values (haproxySettings.ts) */
  balancerChecks?: HaproxyChecks;
  /** HAProxy writes one line per request to its output, with several routers. @default false */
  balancerAccessLog?: boolean;
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
  /** Where clients send GraphQL: the router, or HAProxy in front of several. */
  routerUrl: string;
  /** The routers' component names: `router`, or `router-0` … behind the balancer. */
  routers: string[];
  /** HAProxy's stats listener (`…/stats`; `;csv` for machines), with several routers. */
  balancerStatsUrl?: string;
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
  const routerCount = options.routers ?? 1;
  if (!Number.isInteger(routerCount) || routerCount < 1) throw new Error(`routers must be a whole number of at least 1 (got ${options.routers})`);
  const balanced = routerCount > 1;
  const topology = loadTopology(options.env?.TOPOLOGY_FILE ?? process.env.TOPOLOGY_FILE ?? undefined);
  const ephemeral = (options.ports ?? 'ephemeral') === 'ephemeral';
  const readyTimeoutMs = options.readyTimeoutMs ?? 60_000;
  const env: Record<string, string> = {
    INTERNAL_SECRET: randomBytes(24).toString('hex'),
    ...Object.fromEntries(Object.entries(options.env ?? {}).filter((e): e is [string, string] => e[1] !== undefined)),
  };
  // Checked before anything starts: a missing balancer or Redis is a message, not half a stack.
  const sharedRedis = env.REDIS_URL ?? process.env.REDIS_URL;
  const executables = balanced ? requireExecutables(sharedRedis ? ['haproxy'] : ['haproxy', 'redis-server']) : {};
  const components = new Map<string, LaunchedComponent>();
  const stopping = new Set<string>();
  let stopped = false;
  let scratchDir: string | undefined;
  const entries = await buildBundles();

  function spawnComponent(component: LaunchedComponent): Promise<void> {
    if (component.external) return spawnExternal(component, component.external);
    const kind = component.kind as 'router' | 'gateway' | 'subgraph';
    const stdio = childStdio(options.output, component.name);
    const child = spawn(process.execPath, ['--enable-source-maps', entries[kind], ...component.args], {
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

  /** HAProxy and redis-server: no IPC to say they are ready, so ready is when their ports accept. */
  async function spawnExternal(component: LaunchedComponent, external: ExternalLaunch): Promise<void> {
    const stdio = childStdio(options.output, component.name);
    const child = spawn(external.command, external.args(), { env: { ...process.env, ...external.env }, stdio: [stdio.in, stdio.out, stdio.err] });
    stdio.attach?.(child);
    component.process = child;
    component.pid = child.pid;
    const spawnFailed = new Promise<never>((_, reject) => child.once('error', (error) => reject(new Error(`${component.name} could not be started: ${error.message}`))));
    child.once('exit', (code, signal) => {
      component.process = undefined;
      const expected = stopped || stopping.has(component.name);
      stopping.delete(component.name);
      if (!expected) options.onUnexpectedExit?.(component, code, signal);
    });
    try {
      await Promise.race([
        spawnFailed,
        (async () => {
          for (const port of [component.port, component.adminPort]) if (port !== undefined) await waitForPort(port, child, { timeoutMs: readyTimeoutMs });
          await external.ready?.(AbortSignal.timeout(readyTimeoutMs));
        })(),
      ]);
    } catch (error) {
      child.kill('SIGKILL');
      throw new Error(`${component.name} did not start: ${(error as Error).message}`);
    }
  }

  function add(name: string, kind: Component['kind'], port: number, args: string[], extraEnv: Record<string, string> = {}, adminPort?: number, external?: ExternalLaunch) {
    const component: LaunchedComponent = {
      name,
      kind,
      // Ours report the port they bound; HAProxy and Redis are given theirs.
      port: ephemeral && !external ? 0 : port,
      adminPort: adminPort === undefined ? undefined : ephemeral && !external ? 0 : adminPort,
      pid: undefined,
      process: undefined,
      args,
      extraEnv,
      external,
    };
    components.set(name, component);
    return component;
  }

  const stack: Stack = {
    routerUrl: '',
    routers: [],
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
      // Routers first, while the balancer still checks them (each drains as in a rolling restart), Redis last.
      const order: Component['kind'][] = ['router', 'balancer', 'gateway', 'subgraph', 'redis'];
      for (const kind of order) {
        await Promise.all(
          [...components.values()]
            .filter((c) => c.kind === kind && c.process)
            .map((c) => terminate(c.process!, c.kind === 'router' ? ROUTER_STOP_GRACE_MS + Number(c.extraEnv.DRAIN_NOTICE_MS ?? 0) : undefined)),
        );
      }
      if (scratchDir) rmSync(scratchDir, { recursive: true, force: true });
    },
  };

  try {
    if (balanced && !sharedRedis) {
      // Several routers must share rate limits, revocations, persisted documents and recorded
      // operations: the in-memory stores cannot be shared between processes, Redis can.
      const redis = add('redis', 'redis', await freePort(), [], {}, undefined, {
        command: executables['redis-server']!,
        args: () => ['--port', String(redis.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--loglevel', 'warning'],
      });
      await spawnComponent(redis);
      env.REDIS_URL = `redis://127.0.0.1:${redis.port}`;
    }
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
    if (!balanced) {
      // No balancer in front of it to warn: told to stop, it drains at once, as it always has.
      const router = add('router', 'router', topology.router.port, [], { ...gatewayUrls, DRAIN_NOTICE_MS: env.DRAIN_NOTICE_MS ?? '0' }, topology.router.adminPort);
      await spawnComponent(router);
      stack.routers = [router.name];
      stack.routerUrl = `http://127.0.0.1:${router.port}/graphql`;
      return stack;
    }
    // Behind the balancer the routers take free ports (kept across restarts: HAProxy's config names
    // them); HAProxy takes the router's well-known port and the router's admin port for its stats.
    const behindBalancer = {
      ...gatewayUrls,
      // HAProxy adds X-Forwarded-For: rate limits by address count the client, not the balancer.
      TRUSTED_PROXY_HOPS: env.TRUSTED_PROXY_HOPS ?? '1',
      // Long enough for HAProxy's checks to take a stopping router out before it closes anything.
      DRAIN_NOTICE_MS: env.DRAIN_NOTICE_MS ?? String(drainNoticeFor(options.balancerChecks)),
    };
    const routers = Array.from({ length: routerCount }, (_, i) => add(`router-${i}`, 'router', 0, [], behindBalancer, 0));
    await Promise.all(routers.map(spawnComponent));
    stack.routers = routers.map((r) => r.name);
    // Beside the logs when there are any; else a folder of its own, removed when the stack stops.
    const logDir = options.output && typeof options.output === 'object' ? options.output.dir : undefined;
    const configDir = logDir ?? (scratchDir = mkdtempSync(join(tmpdir(), 'haproxy-')));
    mkdirSync(configDir, { recursive: true });
    const configFile = join(configDir, 'haproxy.cfg');
    writeFileSync(configFile, renderHaproxyConfig(routers.map((r) => ({ name: r.name, port: r.port }))));
    const balancerPort = ephemeral ? await freePort() : topology.router.port;
    const statsPort = ephemeral ? await freePort() : topology.router.adminPort;
    const balancer = add('haproxy', 'balancer', balancerPort, [], {}, statsPort, {
      command: executables.haproxy!,
      // -db: stay in the foreground, a child of this launcher; -f: the rendered template.
      args: () => ['-db', '-f', configFile],
      // Ready once every router is in rotation: the first requests then find both.
      async ready(signal) {
        while (!(await readBalancedServers(`http://127.0.0.1:${statsPort}/stats`, signal)).every((server) => server.status === 'UP')) {
          await new Promise((resolve) => setTimeout(resolve, 50));
        }
      },
      env: haproxyEnvironment({
        bind: `127.0.0.1:${balancerPort}`,
        statsBind: `127.0.0.1:${statsPort}`,
        checks: options.balancerChecks,
        accessLog: options.balancerAccessLog,
      }),
    });
    await spawnComponent(balancer);
    stack.routerUrl = `http://127.0.0.1:${balancer.port}/graphql`;
    stack.balancerStatsUrl = `http://127.0.0.1:${balancer.adminPort}/stats`;
    return stack;
  } catch (error) {
    await stack.stop();
    throw error;
  }
}

/** How long a stopping router may take beyond its drain notice to finish what it serves. */
const ROUTER_STOP_GRACE_MS = 5_000;

/** A process that is not one of ours: what to run, with what arguments (worked out at each start). */
interface ExternalLaunch {
  command: string;
  args(): string[];
  env?: Record<string, string>;
  /** What else must hold, once its ports accept, before it counts as ready. */
  ready?(signal: AbortSignal): Promise<void>;
}

type LaunchedComponent = Component & { args: string[]; extraEnv: Record<string, string>; external?: ExternalLaunch };

/** Where a command may be named instead of found on PATH (e.g. a HAProxy built elsewhere). */
const EXECUTABLE_OVERRIDES: Record<string, string> = { haproxy: 'HAPROXY_BIN', 'redis-server': 'REDIS_SERVER_BIN' };

/** Each command's path, or one error naming every missing one and the package that brings it. */
function requireExecutables(names: string[]): Record<string, string | undefined> {
  const found = Object.fromEntries(names.map((name) => [name, findExecutable(process.env[EXECUTABLE_OVERRIDES[name]] || name)]));
  const missing = names.filter((name) => !found[name]);
  if (missing.length) {
    throw new Error(
      `several routers need ${missing.join(' and ')} on this machine (HAProxy balances them, Redis holds what they share): ` +
        `apt-get install -y ${missing.join(' ')} (or name them: ${missing.map((name) => `${EXECUTABLE_OVERRIDES[name]}=/path/to/${name}`).join(' ')})`,
    );
  }
  return found;
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
