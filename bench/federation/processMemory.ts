import { readFileSync } from 'node:fs';

/** Resident set size of one process in kB, from the `VmRSS:` line of its /proc/<pid>/status; 0 when gone. */
export function parseRssKb(status: string): number {
  const match = /^VmRSS:\s+(\d+)\s+kB$/m.exec(status);
  return match ? Number(match[1]) : 0;
}

/** Reads the memory a set of processes hold (resident set, summed), in MB. */
export function residentMb(pids: readonly number[], readStatus: (pid: number) => string = (pid) => readFileSync(`/proc/${pid}/status`, 'utf8')): number {
  return pids.reduce((sum, pid) => sum + parseRssKb(readStatus(pid)), 0) / 1024;
}
