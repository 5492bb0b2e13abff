import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearer, postGraphQL, waitFor } from '../support/graphqlClient.ts';

// `npm start` itself, as a newcomer runs it: a table of components, the router URL, a demo key that
// works, a FREE-plan key whose printed curl loop meets the rate limit, a crashed child reported, and
// Ctrl-C stopping every process.
let start: ChildProcess;
let output = '';
const dir = mkdtempSync(join(tmpdir(), 'npm-start-'));

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

beforeAll(async () => {
  start = spawn(process.execPath, ['--import', 'tsx', 'scripts/start.ts'], {
    env: {
      ...process.env,
      STACK_PORTS: 'ephemeral',
      DATABASE_PATH: join(dir, 'data.db'),
      DEMO_API_KEY: undefined,
      DEMO_FREE_API_KEY: undefined,
      RATE_LIMIT_FREE: undefined,
      LOG_LEVEL: 'error',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  start.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  start.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  await waitFor(() => output.includes('Ctrl-C stops everything.'), 90_000, 200);
}, 100_000);

afterAll(async () => {
  if (start.exitCode === null) start.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

describe('npm start', () => {
  const table = () =>
    [...output.matchAll(/^(router|gateway-\w+|\w+-\d)\s+(\d+)\s+(\d+)\s+(\d+|-)\s*$/gm)].map(([, name, pid, port, admin]) => ({
      name,
      pid: Number(pid),
      port: Number(port),
      adminPort: admin === '-' ? undefined : Number(admin),
    }));

  it('prints every component with pid and port, the router URL and a generated demo key that works', async () => {
    expect(table().map((row) => row.name).sort()).toHaveLength(17);
    const routerUrl = output.match(/router:\s+(http:\S+)/)![1];
    const key = output.match(/demo API key: (\S+)/)![1];
    expect(key).toMatch(/^demo-[0-9a-f]{24}$/);
    const { body } = await postGraphQL(routerUrl, { query: '{ me { id } articles(first: 1) { totalCount } }' }, bearer(key));
    expect(body).toEqual({ data: { me: { id: 'u1' }, articles: { totalCount: 100 } } });
  });

  it('prints the admin port of the router and each gateway, where the operator endpoints answer (and only there)', async () => {
    const withAdmin = table().filter((row) => row.adminPort !== undefined);
    expect(withAdmin.map((row) => row.name).sort()).toEqual(['gateway-commerce', 'gateway-identity', 'router']);
    const router = withAdmin.find((row) => row.name === 'router')!;
    expect(output).toContain(`http://127.0.0.1:${router.adminPort}/internal/state`);
    const state = await fetch(`http://127.0.0.1:${router.adminPort}/internal/state`);
    expect(state.status).toBe(200);
    expect(Object.keys((await state.json()).gateways).sort()).toEqual(['commerce', 'identity']);
    expect((await fetch(`http://127.0.0.1:${router.port}/internal/state`)).status).toBe(404);
  });

  it('prints a FREE-plan key and a curl loop that shows RATE_LIMITED to a newcomer', async () => {
    const key = output.match(/FREE API key: (\S+)/)![1];
    expect(key).toMatch(/^demo-free-[0-9a-f]{24}$/);
    // The loop exactly as printed (its continuation line joined), run by a shell with curl.
    const printed = output.match(/rate limit:\s+(for i in [\s\S]*?; done)/)![1].replace(/\\\n\s*/g, '');
    const lines = execFileSync('bash', ['-c', printed], { encoding: 'utf8', timeout: 60_000 }).trim().split('\n');
    expect(lines).toHaveLength(15);
    expect(lines.slice(0, 10).every((line) => line.endsWith(' 200') && line.includes('"plan":"FREE"'))).toBe(true);
    for (const line of lines.slice(10)) {
      expect(line).toMatch(/ 429$/);
      expect(JSON.parse(line.slice(0, -4)).errors[0].extensions).toMatchObject({ code: 'RATE_LIMITED', retryAfterSeconds: expect.any(Number) });
    }
  });

  it('reports a crashed child and keeps the rest serving', async () => {
    const victim = table().find((row) => row.name === 'chat-1')!;
    process.kill(victim.pid, 'SIGKILL');
    await waitFor(() => /chat-1 \(pid \d+\) exited unexpectedly/.test(output), 10_000);
    const routerUrl = output.match(/router:\s+(http:\S+)/)![1];
    const { body } = await postGraphQL(routerUrl, { query: '{ models { id } }' });
    expect(body.data!.models.length).toBe(3);
  });

  it('stops every process on Ctrl-C (SIGINT)', async () => {
    const pids = table().map((row) => row.pid);
    const exited = new Promise<number | null>((resolve) => start.once('exit', (code) => resolve(code)));
    start.kill('SIGINT');
    expect(await exited).toBe(0);
    await waitFor(() => pids.every((pid) => !alive(pid)), 10_000);
  });
});
