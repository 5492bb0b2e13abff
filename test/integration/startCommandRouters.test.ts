import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readBalancedServers } from '../../scripts/haproxySettings.ts';
import { bearer, postGraphQL, waitFor } from '../support/graphqlClient.ts';

// `npm start -- --routers 2` as an operator runs it: HAProxy on the router's port in front of two
// routers, a redis-server they share, what was started printed, the FREE-plan loop limited once for
// both routers, Ctrl-C stopping every process; and a clear refusal when HAProxy is missing.
let start: ChildProcess;
let output = '';
const dir = mkdtempSync(join(tmpdir(), 'npm-start-routers-'));

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

beforeAll(async () => {
  start = spawn(process.execPath, ['--import', 'tsx', 'scripts/start.ts', '--routers', '2'], {
    env: {
      ...process.env,
      STACK_PORTS: 'ephemeral',
      DATABASE_PATH: join(dir, 'data.db'),
      DEMO_API_KEY: undefined,
      DEMO_FREE_API_KEY: undefined,
      RATE_LIMIT_FREE: undefined,
      REDIS_URL: undefined,
      LOG_LEVEL: 'error',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  start.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  start.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  await waitFor(() => output.includes('Ctrl-C stops everything.') || start.exitCode !== null, 120_000, 200);
}, 130_000);

afterAll(async () => {
  if (start.exitCode === null) start.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

describe('npm start -- --routers 2', () => {
  const table = () =>
    [...output.matchAll(/^(haproxy|redis|router-\d|gateway-\w+|\w+-\d)\s+(\d+)\s+(\d+)\s+(\d+|-)\s*$/gm)].map(([, name, pid, port, admin]) => ({
      name,
      pid: Number(pid),
      port: Number(port),
      adminPort: admin === '-' ? undefined : Number(admin),
    }));
  const routerUrl = () => output.match(/router:\s+(http:\S+)/)![1];

  it('prints HAProxy on the router URL, the two routers behind it and the redis-server they share', async () => {
    expect(output, output.slice(-2000)).toContain('Ctrl-C stops everything.');
    const rows = table();
    const names = rows.map((row) => row.name);
    expect(names).toEqual(expect.arrayContaining(['haproxy', 'redis', 'router-0', 'router-1', 'gateway-identity', 'gateway-commerce']));
    expect(names).toHaveLength(20);
    const haproxy = rows.find((row) => row.name === 'haproxy')!;
    expect(routerUrl()).toBe(`http://127.0.0.1:${haproxy.port}/graphql`);
    expect(output).toMatch(/in-memory stores of a single router cannot be shared: redis-server started on port \d+/);
    // HAProxy's stats, printed for operators, show both routers in rotation.
    const statsUrl = output.match(/operators:\s+(http:\S+\/stats)/)![1];
    const servers = await readBalancedServers(statsUrl);
    expect(servers.map((s) => [s.name, s.status])).toEqual([
      ['router-0', 'UP'],
      ['router-1', 'UP'],
    ]);
    const key = output.match(/demo API key: (\S+)/)![1];
    const { body } = await postGraphQL(routerUrl(), { query: '{ me { id } articles(first: 1) { totalCount } }' }, bearer(key));
    expect(body).toEqual({ data: { me: { id: 'u1' }, articles: { totalCount: 100 } } });
  });

  it('limits the FREE-plan key of the printed curl loop once across both routers', async () => {
    const printed = output.match(/rate limit:\s+(for i in [\s\S]*?; done)/)![1].replace(/\\\n\s*/g, '');
    const lines = execFileSync('bash', ['-c', printed], { encoding: 'utf8', timeout: 60_000 }).trim().split('\n');
    expect(lines).toHaveLength(15);
    // HAProxy spreads the loop over both routers (leastconn), yet only the plan's ten get through.
    expect(lines.filter((line) => line.endsWith(' 200'))).toHaveLength(10);
    expect(lines.filter((line) => line.endsWith(' 429'))).toHaveLength(5);
    const statsUrl = output.match(/operators:\s+(http:\S+\/stats)/)![1];
    expect((await readBalancedServers(statsUrl)).every((s) => s.sessions > 0)).toBe(true);
  });

  it('stops every process on Ctrl-C (SIGINT), HAProxy and Redis included', async () => {
    const pids = table().map((row) => row.pid);
    const exited = new Promise<number | null>((resolve) => start.once('exit', (code) => resolve(code)));
    start.kill('SIGINT');
    expect(await exited).toBe(0);
    await waitFor(() => pids.every((pid) => !alive(pid)), 15_000);
  }, 30_000);

  it('refuses to start without HAProxy, saying what to install', () => {
    const refused = spawnSync(process.execPath, ['--import', 'tsx', 'scripts/start.ts', '--routers', '2'], {
      env: { ...process.env, STACK_PORTS: 'ephemeral', HAPROXY_BIN: '/nonexistent/haproxy', LOG_LEVEL: 'error' },
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(refused.status).toBe(1);
    expect(refused.stderr).toContain('several routers need haproxy');
    expect(refused.stderr).toContain('apt-get install -y haproxy');
  }, 70_000);
});
