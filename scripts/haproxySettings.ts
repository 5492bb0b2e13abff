/**
 * The health-check timings HAProxy runs with (deploy/haproxy/haproxy.cfg reads them from the
 * environment). The defaults are the production values; tests pass faster ones.
 */
export interface HaproxyChecks {
  /** Interval between two `GET /readyz` checks of one router (`HAPROXY_CHECK_INTER`). @default 1000 */
  intervalMs?: number;
  /** Failed checks in a row that take a router out of rotation (`HAPROXY_CHECK_FALL`). @default 2 */
  fall?: number;
  /** Passed checks in a row that put it back (`HAPROXY_CHECK_RISE`). @default 2 */
  rise?: number;
  /** Deadline of one check (`HAPROXY_CHECK_TIMEOUT`): above the router's own gateway probe (1 s). @default 2000 */
  timeoutMs?: number;
}

/** What the template reads: where to listen, the check timings, the stats listener, the access log. */
export function haproxyEnvironment(options: { bind: string; statsBind?: string; checks?: HaproxyChecks; accessLog?: boolean }): Record<string, string> {
  const { intervalMs = 1_000, fall = 2, rise = 2, timeoutMs = 2_000 } = options.checks ?? {};
  return {
    HAPROXY_BIND: options.bind,
    HAPROXY_CHECK_INTER: `${intervalMs}ms`,
    HAPROXY_CHECK_FALL: String(fall),
    HAPROXY_CHECK_RISE: String(rise),
    HAPROXY_CHECK_TIMEOUT: `${timeoutMs}ms`,
    ...(options.statsBind ? { HAPROXY_STATS_BIND: options.statsBind } : {}),
    ...(options.accessLog ? { HAPROXY_ACCESS_LOG: '1' } : {}),
  };
}

/**
 * How long a router told to stop must keep answering while `/readyz` says "draining" for these checks
 * to take it out of rotation: a check under way when the drain starts may take its whole timeout and
 * pass, then `fall` checks one interval apart fail (a draining router answers 503 at once). With the
 * production checks (2 × 1 s + 2 s) this is the router's default DRAIN_NOTICE_MS, 4000.
 */
export function drainNoticeFor(checks: HaproxyChecks = {}): number {
  const { intervalMs = 1_000, fall = 2, timeoutMs = 2_000 } = checks;
  return fall * intervalMs + timeoutMs;
}

/** One router as HAProxy's stats CSV reports it. */
export interface BalancedServerState {
  name: string;
  /** `UP`, `DOWN`, `UP 1/2` (going down), `DOWN 1/2` (going up), `MAINT`, `no check`. */
  status: string;
  /** Requests or connections sent to it in all (`stot`). */
  sessions: number;
  /** Open sessions now (`scur`). */
  current: number;
  /** Retries and redispatches away from it (`wretr`, `wredis`). */
  retries: number;
  redispatches: number;
  /** Connection errors and aborted responses seen (`econ`, `eresp`). */
  connectionErrors: number;
  responseErrors: number;
}

/** The routers' states from HAProxy's stats listener (`/stats;csv`). */
export async function readBalancedServers(statsUrl: string, signal?: AbortSignal): Promise<BalancedServerState[]> {
  const response = await fetch(`${statsUrl.replace(/\/$/, '')};csv`, { signal });
  if (!response.ok) throw new Error(`HAProxy stats answered ${response.status}`);
  const [header, ...rows] = (await response.text()).split('\n').filter(Boolean);
  const columns = header.replace(/^# /, '').split(',');
  const at = (row: string[], column: string) => row[columns.indexOf(column)] ?? '';
  const number = (row: string[], column: string) => Number(at(row, column)) || 0;
  return rows
    .map((line) => line.split(','))
    .filter((row) => at(row, 'pxname') === 'routers' && !['FRONTEND', 'BACKEND'].includes(at(row, 'svname')))
    .map((row) => ({
      name: at(row, 'svname'),
      status: at(row, 'status'),
      sessions: number(row, 'stot'),
      current: number(row, 'scur'),
      retries: number(row, 'wretr'),
      redispatches: number(row, 'wredis'),
      connectionErrors: number(row, 'econ'),
      responseErrors: number(row, 'eresp'),
    }));
}
