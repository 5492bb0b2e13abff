import { randomBytes } from 'node:crypto';
import { ConfigError, loadConfig } from '../lib/config.ts';
import { launchStack } from './launchStack.ts';

// `npm start`: the whole stack on one machine with embedded defaults (SQLite file, in-memory cache).
// `npm start -- --routers N`: N routers behind HAProxy on the router's port, sharing their state through Redis.
const started = performance.now();
const routers = routersArgument(process.argv.slice(2));
let adminHost: string;
try {
  adminHost = loadConfig().server.adminHost; // fail fast, with the bad key named, before starting seventeen processes
} catch (error) {
  if (error instanceof ConfigError) {
    console.error(error.message);
    process.exit(2);
  }
  throw error;
}

// Secrets come from the environment; when absent, this run makes its own and says so.
const demoApiKey = process.env.DEMO_API_KEY ?? `demo-${randomBytes(12).toString('hex')}`;
const demoFreeApiKey = process.env.DEMO_FREE_API_KEY ?? `demo-free-${randomBytes(12).toString('hex')}`;
// Low enough that a newcomer's loop of curl calls meets RATE_LIMITED; a deployment sets its own.
const freePlanRateLimit = process.env.RATE_LIMIT_FREE ?? '10/60';
const internalSecret = process.env.INTERNAL_SECRET ?? randomBytes(24).toString('hex');

let shuttingDown = false;
const stack = await launchStack({
  // STACK_PORTS=ephemeral runs a second stack beside a running one (the start-command test does).
  ports: process.env.STACK_PORTS === 'ephemeral' ? 'ephemeral' : 'default',
  routers,
  output: 'inherit',
  env: {
    DEMO_API_KEY: demoApiKey,
    DEMO_FREE_API_KEY: demoFreeApiKey,
    RATE_LIMIT_FREE: freePlanRateLimit,
    INTERNAL_SECRET: internalSecret,
    LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn',
  },
  onUnexpectedExit(component, code, signal) {
    if (shuttingDown) return;
    console.error(`✗ ${component.name} (pid ${component.pid}) exited unexpectedly (code ${code}, signal ${signal}); the rest keeps serving`);
  },
}).catch((error: Error) => {
  console.error(`✗ the stack did not start: ${error.message}`);
  process.exit(1);
});

const rows = stack.components.map((c) => [c.name, String(c.pid ?? '-'), String(c.port), c.adminPort === undefined ? '-' : String(c.adminPort)]);
const width = [9, 7, 5, 5].map((min, i) => Math.max(min, ...rows.map((r) => r[i].length)));
const line = (cells: string[]) => cells.map((cell, i) => cell.padEnd(width[i])).join('  ').trimEnd();
console.log(`\n${line(['component', 'pid', 'port', 'admin'])}\n${line(width.map((w) => '-'.repeat(w)))}`);
for (const row of rows) console.log(line(row));
console.log(`\nready in ${((performance.now() - started) / 1000).toFixed(1)} s`);
if (routers > 1) {
  const redis = stack.components.find((c) => c.kind === 'redis');
  console.log(`\n${routers} routers behind HAProxy (deploy/haproxy/haproxy.cfg): it listens on the router's port, checks each router's /readyz and`);
  console.log(`moves traffic off one that stops. Rate limits, key revocations, persisted documents and recorded operations`);
  console.log(`live in Redis, since the in-memory stores of a single router cannot be shared: ${redis ? `redis-server started on port ${redis.port}` : `REDIS_URL=${process.env.REDIS_URL}`}.`);
}
console.log(`router:       ${stack.routerUrl}${routers > 1 ? '   (HAProxy)' : ''}`);
console.log(`in a browser: ${new URL('/', stack.routerUrl).href}   (the chat page; GraphiQL with the demo key and example operations on /graphql)`);
const adminUrlOf = (name: string) => `http://${adminHost.includes(':') ? `[${adminHost}]` : adminHost}:${stack.get(name).adminPort}`;
if (routers > 1) {
  console.log(`operators:    ${stack.balancerStatsUrl} (HAProxy: each router up or down, sessions, retries)`);
  for (const name of stack.routers) console.log(`              ${adminUrlOf(name)}/internal/state and /metrics (${name}'s admin listener)`);
} else {
  const adminUrl = adminUrlOf('router');
  console.log(`operators:    ${adminUrl}/internal/state and ${adminUrl}/metrics (the router's admin listener)`);
}
console.log(`demo API key: ${demoApiKey}${process.env.DEMO_API_KEY ? '' : '   (generated; set DEMO_API_KEY to choose one)'}`);
console.log(`try:          curl -s ${stack.routerUrl} -H 'content-type: application/json' -H 'authorization: Bearer ${demoApiKey}' \\
                -d '{"query":"{ me { name plan } articles(first: 3) { edges { node { title price } } } }"}'`);
const [limit, windowSeconds] = freePlanRateLimit.split('/');
console.log(`FREE API key: ${demoFreeApiKey}   (a FREE-plan user: ${limit} requests per ${windowSeconds} s, then RATE_LIMITED)`);
console.log(`rate limit:   for i in $(seq ${Number(limit) + 5}); do curl -s ${stack.routerUrl} -H 'content-type: application/json' \\
                -H 'authorization: Bearer ${demoFreeApiKey}' -d '{"query":"{ me { plan } }"}' -w ' %{http_code}\\n'; done`);
console.log('Ctrl-C stops everything.');

async function shutdown(signal: string) {
  if (shuttingDown) return;
  shuttingDown = true;
  console.log(`\n${signal}: stopping every component…`);
  await stack.stop();
  process.exit(0);
}
process.on('SIGINT', () => void shutdown('SIGINT'));
process.on('SIGTERM', () => void shutdown('SIGTERM'));

/** `--routers N` (or `--routers=N`): how many routers to run; 1, the plain stack, unless given. */
function routersArgument(args: string[]): number {
  const at = args.findIndex((arg) => arg === '--routers' || arg.startsWith('--routers='));
  if (at === -1) return 1;
  const value = args[at].includes('=') ? args[at].slice('--routers='.length) : args[at + 1];
  const count = Number(value);
  if (!Number.isInteger(count) || count < 1 || count > 16) {
    console.error(`--routers wants a whole number from 1 to 16 (got ${value ?? 'nothing'}), e.g. npm start -- --routers 2`);
    process.exit(2);
  }
  return count;
}
