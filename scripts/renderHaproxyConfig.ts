import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** The template every balanced stack renders: deploy/haproxy/haproxy.cfg. */
export const HAPROXY_TEMPLATE = fileURLToPath(new URL('../deploy/haproxy/haproxy.cfg', import.meta.url));

/** One router behind the balancer. */
export interface BalancedRouter {
  /** Its name in HAProxy's stats and logs, e.g. `router-0`. */
  name: string;
  /** @default "127.0.0.1" */
  host?: string;
  port: number;
}

const MARKER = /^([ \t]*)# @routers[ \t]*$/m;
const SERVER_NAME = /^[A-Za-z0-9_.-]+$/;

/**
 * The template with its `# @routers` line replaced by one `server` line per router (their health check
 * and retry settings come from the template's `default-server`); every other value stays an
 * environment variable that HAProxy expands itself when it reads the file.
 */
export function renderHaproxyConfig(routers: readonly BalancedRouter[], template = readFileSync(HAPROXY_TEMPLATE, 'utf8')): string {
  if (!routers.length) throw new Error('HAProxy needs at least one router to balance');
  const marker = template.match(MARKER);
  if (!marker) throw new Error(`the HAProxy template has no "# @routers" line to put the routers in`);
  const lines = routers.map(({ name, host = '127.0.0.1', port }) => {
    if (!SERVER_NAME.test(name)) throw new Error(`router name "${name}" is not a valid HAProxy server name`);
    if (!Number.isInteger(port) || port <= 0 || port > 65_535) throw new Error(`router ${name} has no port to balance (${port})`);
    return `${marker[1]}server ${name} ${host.includes(':') ? `[${host}]` : host}:${port}`;
  });
  return template.replace(MARKER, lines.join('\n'));
}
