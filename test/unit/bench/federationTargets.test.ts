import { afterEach, describe, expect, it, vi } from 'vitest';
import { printTargets } from '../../../bench/federation/printFederationTable.ts';
import { parseRssKb, residentMb } from '../../../bench/federation/processMemory.ts';
import type { TargetSummary } from '../../../bench/federation/roundMath.ts';

// The federation benchmark's verdicts: a target is met only when its figures clear the bar and every
// target compared served every request; memory is read from /proc.
const summary = (requestsPerCpuSecond: number, p50Ms: number, failures = 0): TargetSummary => ({
  rounds: 3,
  requestsPerSecond: 100,
  p50Ms,
  p99Ms: p50Ms * 3,
  cpuMsPerRequest: 1000 / requestsPerCpuSecond,
  requestsPerCpuSecond,
  coresUsed: 1,
  fetchesPerRequest: 16,
  helperCoresUsed: 0.2,
  failures,
});

function printed(...args: Parameters<typeof printTargets>): string[] {
  const log = vi.spyOn(console, 'log').mockImplementation(() => {});
  printTargets(...args);
  const lines = log.mock.calls.map((call) => String(call[0]));
  return lines.join('\n').split('\n');
}

afterEach(() => vi.restoreAllMocks());

describe('issue 19 targets', () => {
  it('says met when the gateway does 4× stock’s requests per CPU-second, halves its p50 and holds no more memory', () => {
    const lines = printed('guild', { a: summary(100, 20), c: summary(420, 9) }, { a: summary(100, 20), c: summary(420, 9) }, { a: 250, c: 240 });
    expect(lines.find((l) => l.includes('(c) gateway alone req/CPU-s ≥ 4× (a)'))).toMatch(/4\.20×\s+met$/);
    expect(lines.find((l) => l.includes('(c) p50 at one in flight'))).toMatch(/0\.45×\s+met$/);
    expect(lines.find((l) => l.includes('(c) memory'))).toMatch(/240 \/ 250 MB\s+met$/);
  });

  it('never says met for a comparison whose targets failed requests, and says which failed', () => {
    const lines = printed('guild', { a: summary(100, 20), c: summary(500, 5, 12) }, { a: summary(100, 20), c: summary(500, 5) });
    expect(lines.find((l) => l.includes('(c) gateway alone req/CPU-s ≥ 4× (a)'))).toMatch(/5\.00×\s+NOT met$/);
    expect(lines.find((l) => l.includes('(c) p50 at one in flight'))).toMatch(/NOT met$/);
    expect(lines.some((l) => l.startsWith('FAILED REQUESTS: (c) 12'))).toBe(true);
  });

  it('says NOT met below the bar', () => {
    const lines = printed('demo', { a: summary(100, 20), d: summary(250, 15) }, { a: summary(100, 20), d: summary(250, 15) });
    expect(lines.find((l) => l.includes('(d) router + gateway req/CPU-s ≥ 3× (a)'))).toMatch(/2\.50×\s+NOT met$/);
  });
});

describe('resident memory from /proc/<pid>/status', () => {
  it('reads VmRSS in kB and sums processes in MB', () => {
    const status = 'Name:\tnode\nVmPeak:\t 900000 kB\nVmRSS:\t  204800 kB\nThreads:\t11\n';
    expect(parseRssKb(status)).toBe(204_800);
    expect(parseRssKb('Name:\tzombie\n')).toBe(0);
    expect(residentMb([1, 2], () => status)).toBe(400);
    expect(residentMb([process.pid])).toBeGreaterThan(10);
  });
});
