import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

/**
 * Clock ticks per second, the unit of utime and stime in /proc/<pid>/stat (`getconf CLK_TCK`; 100 on
 * every Linux we know, the fallback when getconf is missing).
 */
export function clockTicksPerSecond(): number {
  try {
    const ticks = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim());
    return Number.isFinite(ticks) && ticks > 0 ? ticks : 100;
  } catch {
    return 100;
  }
}

/**
 * User plus system CPU ticks of one process (all its threads: the JS thread, GC helpers, libuv),
 * from the text of its /proc/<pid>/stat. The command name in parentheses may itself hold spaces or
 * parentheses, so fields are counted from the last `)`: utime and stime are fields 14 and 15.
 */
export function parseCpuTicks(stat: string): number {
  const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const utime = Number(rest[14 - 3]);
  const stime = Number(rest[15 - 3]);
  if (!Number.isFinite(utime) || !Number.isFinite(stime)) throw new Error(`not a /proc/<pid>/stat line: ${stat.slice(0, 80)}`);
  return utime + stime;
}

/** Reads the CPU time of a set of processes, in milliseconds, summed. */
export class ProcessCpu {
  readonly #msPerTick: number;

  constructor(
    readonly pids: readonly number[],
    ticksPerSecond = clockTicksPerSecond(),
    private readonly readStat: (pid: number) => string = (pid) => readFileSync(`/proc/${pid}/stat`, 'utf8'),
  ) {
    this.#msPerTick = 1000 / ticksPerSecond;
  }

  /** CPU milliseconds the processes have used so far (user + system). */
  readMs(): number {
    return this.pids.reduce((sum, pid) => sum + parseCpuTicks(this.readStat(pid)), 0) * this.#msPerTick;
  }
}
