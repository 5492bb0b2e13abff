import { readFileSync } from 'node:fs';

/** One request in HAProxy's access log (`option httplog`, as deploy/haproxy writes it with HAPROXY_ACCESS_LOG). */
export interface BalancedRequest {
  /** Epoch ms of the request's first byte (`%tr`). */
  acceptedAt: number;
  /** Total time it was active, ms (`%Ta`). */
  activeMs: number;
  /** The router that answered it, e.g. `router-0`; `<NOSRV>` when none did. */
  server: string;
  status: number;
  /** Why the session ended (`%tsc`): `----` normally, `SH--` a router gone before its headers, `SD--` during its body. */
  termination: string;
  /** Connection attempts retried (`%rc`), and whether one went to another router. */
  retries: number;
  redispatched: boolean;
  /** The captured `Last-Event-ID`, empty when the request had none. */
  lastEventId: string;
  /** `POST /graphql HTTP/1.1`. */
  request: string;
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const LINE =
  /^\S+ \[(\d+)\/(\w+)\/(\d+):(\d+):(\d+):(\d+)\.(\d+)\] \S+ \S+\/(\S+) -?\d+\/-?\d+\/-?\d+\/-?\d+\/\+?(-?\d+) (-?\d+) \S+ \S+ \S+ (\S{4}) \d+\/\d+\/\d+\/\d+\/(\+?)(\d+) \d+\/\d+ (?:\{([^}]*)\} )?"(.*)"$/;

/** Every request line of HAProxy's log file (other lines, such as its notices, are skipped). */
export function readHaproxyAccessLog(file: string): BalancedRequest[] {
  const requests: BalancedRequest[] = [];
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    const m = line.match(LINE);
    if (!m) continue;
    const [, day, month, year, hour, minute, second, millis, server, active, status, termination, plus, retries, captured, request] = m;
    // HAProxy writes local time, as this process's Date reads it.
    const acceptedAt = new Date(Number(year), MONTHS.indexOf(month), Number(day), Number(hour), Number(minute), Number(second), Number(millis)).getTime();
    requests.push({
      acceptedAt,
      activeMs: Number(active),
      server,
      status: Number(status),
      termination,
      retries: Number(retries),
      redispatched: plus === '+',
      lastEventId: captured ?? '',
      request,
    });
  }
  return requests;
}
