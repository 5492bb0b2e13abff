import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { clockTicksPerSecond, parseCpuTicks, ProcessCpu } from '../../../bench/federation/processCpu.ts';
import { ratiosAgainst, summariseRounds, type RoundSample } from '../../../bench/federation/roundMath.ts';

// The federation benchmark's instruments: CPU read from /proc, and the arithmetic of its table.
describe('process CPU from /proc/<pid>/stat', () => {
  it('counts utime + stime, even when the command name holds spaces and parentheses', () => {
    const stat = '4242 (node (worker) x) S 1 4242 4242 0 -1 4194304 100 0 0 0 250 37 0 0 20 0 11 0 5000 1000000 5000';
    expect(parseCpuTicks(stat)).toBe(287);
    expect(() => parseCpuTicks('garbage')).toThrow(/not a \/proc/);
  });

  it('sums the processes given, in milliseconds at the clock tick rate', () => {
    const stats: Record<number, string> = {
      1: '1 (router) S 0 1 1 0 -1 0 0 0 0 0 30 10 0 0 20 0 1 0 1 1 1',
      2: '2 (gateway) S 0 2 2 0 -1 0 0 0 0 0 50 10 0 0 20 0 1 0 1 1 1',
    };
    expect(new ProcessCpu([1, 2], 100, (pid) => stats[pid]).readMs()).toBe(1000);
    expect(new ProcessCpu([1], 250, (pid) => stats[pid]).readMs()).toBe(160);
  });

  it('sees a real process spend CPU', async () => {
    expect(clockTicksPerSecond()).toBeGreaterThan(0);
    // The child burns 300 ms of its own CPU time (not wall time, which a loaded machine stretches), then says so.
    const burn = 'const start = process.cpuUsage(); const used = () => { const u = process.cpuUsage(start); return (u.user + u.system) / 1000; }; while (used() < 300); process.stdout.write("done"); setTimeout(() => {}, 30_000)';
    const child = spawn(process.execPath, ['-e', burn]);
    try {
      const cpu = new ProcessCpu([child.pid!]);
      const first = cpu.readMs();
      await new Promise<void>((resolve, reject) => {
        child.stdout.once('data', () => resolve());
        child.once('exit', (code) => reject(new Error(`child exited early (${code})`)));
      });
      // At least the 300 ms burnt after the first reading, less Node's start-up already counted in it.
      expect(cpu.readMs() - first).toBeGreaterThan(200);
    } finally {
      child.kill('SIGKILL');
    }
  });
});

describe('round arithmetic', () => {
  const round = (over: Partial<RoundSample>): RoundSample => ({ requests: 1000, failures: 0, wallMs: 2000, p50Ms: 10, p99Ms: 30, cpuMs: 1500, subgraphRequests: 11_000, helperCpuMs: 1000, ...over });

  it('derives each figure per round and takes the median of rounds', () => {
    const summary = summariseRounds([round({}), round({ cpuMs: 3000, p50Ms: 50, failures: 2 }), round({ cpuMs: 1000, p50Ms: 5 })]);
    expect(summary).toEqual({
      rounds: 3,
      requestsPerSecond: 500,
      p50Ms: 10,
      p99Ms: 30,
      cpuMsPerRequest: 1.5,
      requestsPerCpuSecond: 1000 / 1.5,
      coresUsed: 0.75,
      fetchesPerRequest: 11,
      helperCoresUsed: 0.5,
      failures: 2,
    });
  });

  it('puts every ratio so that above 1 means better than the baseline', () => {
    const stock = summariseRounds([round({ cpuMs: 4000, p50Ms: 20 })]);
    const ours = summariseRounds([round({ cpuMs: 1000, requests: 1000, wallMs: 1000, p50Ms: 5 })]);
    expect(ratiosAgainst(ours, stock)).toEqual({ requestsPerCpuSecond: 4, requestsPerSecond: 2, cpuPerRequest: 4, p50: 4 });
    expect(ratiosAgainst(stock, stock)).toEqual({ requestsPerCpuSecond: 1, requestsPerSecond: 1, cpuPerRequest: 1, p50: 1 });
  });
});
