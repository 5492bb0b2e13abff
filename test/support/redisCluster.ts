import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { startRedisServer, type RedisServer } from './redisServer.ts';

const run = promisify(execFile);

/** Real redis-server processes forming a Cluster (or a Sentinel set), owned by one test file. */
export interface RedisCluster {
  /** redis-cluster://127.0.0.1:p1,127.0.0.1:p2,127.0.0.1:p3 */
  url: string;
  ports: number[];
  /** The port of the node that owns `key`'s slot. */
  ownerOf(key: string): Promise<number>;
  stop(): Promise<void>;
}

function canBind(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

/** A port whose cluster bus port (port + 10000) is free too, which port 0 cannot promise. */
async function clusterPort(taken: Set<number>): Promise<number> {
  for (let attempt = 0; attempt < 200; attempt++) {
    const port = 20_000 + Math.floor(Math.random() * 30_000);
    if (taken.has(port) || taken.has(port + 10_000)) continue;
    if ((await canBind(port)) && (await canBind(port + 10_000))) {
      taken.add(port).add(port + 10_000);
      return port;
    }
  }
  throw new Error('no free port pair for a cluster node');
}

function startNode(port: number, dir: string): Promise<ChildProcess> {
  const child = spawn('redis-server', [
    '--port', String(port), '--bind', '127.0.0.1', '--cluster-enabled', 'yes', '--cluster-config-file', `nodes-${port}.conf`,
    '--cluster-node-timeout', '2000', '--dir', dir, '--save', '', '--appendonly', 'no',
  ], { stdio: ['ignore', 'pipe', 'pipe'] });
  return new Promise((resolve, reject) => {
    let output = '';
    const timer = setTimeout(() => reject(new Error(`cluster node ${port} did not start within 10 s`)), 10_000);
    child.stdout!.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes('Ready to accept connections')) {
        clearTimeout(timer);
        resolve(child);
      }
    });
    child.stderr!.resume();
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`cluster node ${port} exited with code ${code}: ${output.slice(-300)}`));
    });
  });
}

async function kill(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  await new Promise<void>((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGKILL');
  });
}

/** Three masters, no replicas, slots spread by `redis-cli --cluster create`; resolves once every node reports cluster_state:ok. */
export async function startRedisCluster(masters = 3): Promise<RedisCluster> {
  const dir = mkdtempSync(join(tmpdir(), 'redis-cluster-'));
  const taken = new Set<number>();
  const ports: number[] = [];
  for (let i = 0; i < masters; i++) ports.push(await clusterPort(taken));
  const children: ChildProcess[] = [];
  const stop = async () => {
    await Promise.all(children.map(kill));
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    children.push(...(await Promise.all(ports.map((port) => startNode(port, dir)))));
    await run('redis-cli', ['--cluster', 'create', ...ports.map((p) => `127.0.0.1:${p}`), '--cluster-replicas', '0', '--cluster-yes'], { timeout: 30_000 });
    const deadline = Date.now() + 20_000;
    for (const port of ports) {
      while (!(await run('redis-cli', ['-p', String(port), 'cluster', 'info'])).stdout.includes('cluster_state:ok')) {
        if (Date.now() > deadline) throw new Error(`cluster node ${port} never reported cluster_state:ok`);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    }
  } catch (error) {
    await stop();
    throw error;
  }
  return {
    url: `redis-cluster://${ports.map((p) => `127.0.0.1:${p}`).join(',')}`,
    ports,
    async ownerOf(key) {
      const slot = Number((await run('redis-cli', ['-p', String(ports[0]), 'cluster', 'keyslot', key])).stdout.trim());
      // One entry per slot range: [start, end, [ip, port, id], ...replicas].
      const slots = (await run('redis-cli', ['-p', String(ports[0]), '--json', 'cluster', 'slots'])).stdout;
      for (const [start, end, [, port]] of JSON.parse(slots) as Array<[number, number, [string, number, string]]>) {
        if (slot >= start && slot <= end) return port;
      }
      throw new Error(`no node owns slot ${slot}`);
    },
    stop,
  };
}

/** One primary and one sentinel watching it as `mymaster`. */
export interface RedisSentinelSet {
  /** redis-sentinel://127.0.0.1:<sentinel port>/mymaster */
  url: string;
  primary: RedisServer;
  stop(): Promise<void>;
}

export async function startRedisSentinel(): Promise<RedisSentinelSet> {
  const primary = await startRedisServer();
  const dir = mkdtempSync(join(tmpdir(), 'redis-sentinel-'));
  const port = await clusterPort(new Set([primary.port]));
  // A sentinel rewrites its config file as it learns, so it gets one of its own.
  const config = join(dir, 'sentinel.conf');
  writeFileSync(config, `port ${port}\nbind 127.0.0.1\ndir ${dir}\nsentinel monitor mymaster 127.0.0.1 ${primary.port} 1\n`);
  const child = spawn('redis-server', [config, '--sentinel'], { stdio: ['ignore', 'pipe', 'pipe'] });
  const stop = async () => {
    await kill(child);
    await primary.stop();
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await new Promise<void>((resolve, reject) => {
      let output = '';
      const timer = setTimeout(() => reject(new Error(`the sentinel did not start within 10 s: ${output.slice(-300)}`)), 10_000);
      child.stdout!.on('data', (chunk: Buffer) => {
        output += chunk.toString();
        if (output.includes('+monitor master mymaster')) {
          clearTimeout(timer);
          resolve();
        }
      });
      child.stderr!.resume();
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`the sentinel exited with code ${code}: ${output.slice(-300)}`));
      });
    });
  } catch (error) {
    await stop();
    throw error;
  }
  return { url: `redis-sentinel://127.0.0.1:${port}/mymaster`, primary, stop };
}
