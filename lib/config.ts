import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { chatConfigSchema, chatEnv } from './chatConfig.ts';
import {
  DEFAULT_PORTS,
  SUBGRAPH_NAMES,
  SUPERGRAPH_NAMES,
  type SubgraphName,
  type SupergraphName,
} from './topology.ts';

/**
 * One typed, validated configuration for every component. Values come from an optional JSON file
 * (`CONFIG_FILE`) and are overridden by environment variables; a bad value stops start-up with a
 * message that names the key.
 */
const urlList = z
  .array(z.string().url())
  .min(1, 'needs at least one URL');

const port = z.coerce.number().int().min(0).max(65535);
const fallbackPolicy = z.enum(['cache', 'degraded', 'none']);
export type FallbackPolicy = z.infer<typeof fallbackPolicy>;

/** auth and users fall back to the cache, orders answers degraded; the rest is configurable. */
const DEFAULT_SUBGRAPH_POLICY: Record<SubgraphName, FallbackPolicy> = {
  auth: 'cache',
  users: 'cache',
  quota: 'cache',
  orders: 'degraded',
  articles: 'cache',
  analytics: 'cache',
  chat: 'none',
};
const ms = z.coerce.number().int().positive();

const configSchema = z.object({
  /** Address every component binds to. @default "127.0.0.1" (internal services stay on loopback) */
  host: z.string().min(1).default('127.0.0.1'),
  /** Shared secret that signs the principal the router hands to gateways and subgraphs. No default. */
  internalSecret: z.string().min(16, 'must be at least 16 characters').optional(),
  /** API key of the seeded demo user; the auth subgraph (re)registers it at start. */
  demoApiKey: z.string().min(8, 'must be at least 8 characters').optional(),
  router: z.object({
    /** @default 4000 */
    port: port.default(DEFAULT_PORTS.router),
    /** Gateway instances per supergraph. @default one per supergraph on its default port */
    gatewayUrls: z.object(
      Object.fromEntries(
        SUPERGRAPH_NAMES.map((name) => [
          name,
          urlList.default([`http://127.0.0.1:${DEFAULT_PORTS.gateways[name]}/graphql`]),
        ]),
      ) as Record<SupergraphName, z.ZodDefault<typeof urlList>>,
    ).default({}),
    /** Deadline for one gateway call. @default 10000 */
    gatewayTimeoutMs: ms.default(10_000),
    /** How long a resolved API key stays cached at the router. @default 30000 */
    authCacheTtlMs: ms.default(30_000),
    /** How long a key's last valid answer keeps it working while the identity supergraph is down. @default 3600000 */
    authStaleIfErrorMs: ms.default(3_600_000),
    /** Largest request body accepted. @default 1 MiB */
    maxBodyBytes: z.coerce.number().int().positive().default(1024 * 1024),
    /** Deepest selection set accepted. @default 15 */
    maxDepth: z.coerce.number().int().positive().default(15),
  }).default({}),
  gateway: z.object({
    /** Deadline of one subgraph attempt; with its one retry it must end before the router's gateway deadline. @default 4000 */
    subgraphTimeoutMs: ms.default(4_000),
    /** Replica URLs per subgraph. @default two replicas per subgraph on their default ports */
    subgraphUrls: z.object(
      Object.fromEntries(
        SUBGRAPH_NAMES.map((name) => [
          name,
          urlList.default([0, 1].map((i) => `http://127.0.0.1:${DEFAULT_PORTS.subgraphs[name] + i}/graphql`)),
        ]),
      ) as Record<SubgraphName, z.ZodDefault<typeof urlList>>,
    ).default({}),
  }).default({}),
  resilience: z.object({
    /**
     * How power-of-two-choices compares two replicas: `peak-ewma` weighs requests in flight by recent
     * latency, `least-request` counts requests in flight only. `npm run bench` compares them.
     * @default "peak-ewma"
     */
    balancer: z.enum(['peak-ewma', 'least-request']).default('peak-ewma'),
    /** Interval of active health checks on every replica. @default 1000 */
    healthCheckIntervalMs: ms.default(1_000),
    /** Deadline of one health check. @default 500 */
    healthCheckTimeoutMs: ms.default(500),
    /** Consecutive failures that eject a replica. @default 3 */
    ejectAfterConsecutiveFailures: z.coerce.number().int().positive().default(3),
    /** First ejection; doubles at each repeat, up to maxEjectionMs. @default 2000 */
    baseEjectionMs: ms.default(2_000),
    /** @default 30000 */
    maxEjectionMs: ms.default(30_000),
    /** Largest share of a pool ejected at once. @default 0.5 */
    maxEjectedShare: z.coerce.number().min(0).max(1).default(0.5),
    /** Share of extra load retries may add. @default 0.2 */
    retryBudgetRatio: z.coerce.number().min(0).max(1).default(0.2),
    /** Consecutive failed calls that open a circuit breaker. @default 5 */
    breakerConsecutiveFailures: z.coerce.number().int().positive().default(5),
    /** How long an open breaker waits before letting one trial call through. @default 3000 */
    breakerHalfOpenAfterMs: ms.default(3_000),
    /** How often a DNS name in a replica list is resolved again. @default 10000 */
    dnsRefreshMs: ms.default(10_000),
  }).default({}),
  cache: z.object({
    /** Redis for the shared caches; without it an in-memory LRU stands in. */
    redisUrl: z.string().url().optional(),
    /** How long a last good answer is kept for stale-if-error. @default 86400 */
    fallbackTtlSeconds: z.coerce.number().int().positive().default(86_400),
    /** Deadline of one cache call; a slower cache is skipped. @default 150 */
    commandTimeoutMs: ms.default(150),
    /** Entries of the in-memory stand-in. @default 10000 */
    memoryMaxEntries: z.coerce.number().int().positive().default(10_000),
    /** Fresh-cache TTL of public root fields, seconds; a field not listed is never served from the fresh cache. */
    responseTtlSeconds: z.record(z.string(), z.coerce.number().int().min(0)).default({
      articles: 10,
      article: 10,
      topArticles: 30,
      models: 300,
    }),
    /** Types each mutation changes beyond those it returns; their cached responses are dropped. */
    mutationInvalidates: z.record(z.string(), z.array(z.string())).default({
      placeOrder: ['Order', 'Article'],
      chat: ['Conversation', 'Message'],
    }),
  }).default({}),
  fallback: z.object({
    /** What a failed subgraph gets at its gateway: the last good answer, a degraded empty answer, or nothing. */
    subgraphs: z.object(
      Object.fromEntries(
        SUBGRAPH_NAMES.map((name) => [name, fallbackPolicy.default(DEFAULT_SUBGRAPH_POLICY[name])]),
      ) as Record<SubgraphName, z.ZodDefault<typeof fallbackPolicy>>,
    ).default({}),
    /** The same for a whole failed gateway, applied at the router. */
    supergraphs: z.object(
      Object.fromEntries(SUPERGRAPH_NAMES.map((name) => [name, fallbackPolicy.default('cache')])) as Record<
        SupergraphName,
        z.ZodDefault<typeof fallbackPolicy>
      >,
    ).default({}),
    /** Root fields and entity types whose data is the same for everyone, so a cached answer may be shared. */
    publicRootFields: z.array(z.string()).default(['articles', 'article', 'topArticles', 'models']),
    publicEntityTypes: z.array(z.string()).default(['Article', 'Model']),
  }).default({}),
  database: z.object({
    /** SQLite file shared by all replicas. @default "data/supergraph.db" */
    path: z.string().min(1).default('data/supergraph.db'),
  }).default({}),
  /** The chat subgraph: generator pace, optional OpenAI-compatible backend, chunk-log timings (lib/chatConfig.ts). */
  chat: chatConfigSchema.default({}),
});

/**
 * A subgraph call and its retry must end before the router stops waiting for the gateway; otherwise
 * the router cancels every call to a hung subgraph mid-retry and its breaker never learns of it.
 */
const checkedConfigSchema = configSchema.superRefine((config, ctx) => {
  if (config.gateway.subgraphTimeoutMs * 2 >= config.router.gatewayTimeoutMs) {
    ctx.addIssue({
      code: z.ZodIssueCode.custom,
      path: ['gateway', 'subgraphTimeoutMs'],
      message: `${config.gateway.subgraphTimeoutMs} ms × 2 attempts must stay under router.gatewayTimeoutMs (${config.router.gatewayTimeoutMs} ms); lower SUBGRAPH_TIMEOUT_MS or raise GATEWAY_TIMEOUT_MS`,
    });
  }
});

export type Config = z.infer<typeof configSchema>;

function list(value: string | undefined): string[] | undefined {
  if (value === undefined || value.trim() === '') return undefined;
  return value.split(',').map((s) => s.trim()).filter(Boolean);
}

function envName(name: string): string {
  return name.toUpperCase();
}

/**
 * Turns environment variables into the shape of the config (only the ones that are set). With
 * `namesOnly`, every leaf is the name of its variable instead: the map error messages use to say
 * which variable to fix.
 */
function fromEnv(env: NodeJS.ProcessEnv, namesOnly = false): Record<string, unknown> {
  const gatewayUrls: Record<string, unknown> = {};
  for (const name of SUPERGRAPH_NAMES) {
    const urls = list(env[`${envName(name)}_GATEWAY_URLS`]);
    if (urls) gatewayUrls[name] = urls;
  }
  const subgraphUrls: Record<string, unknown> = {};
  const subgraphPolicies: Record<string, unknown> = {};
  for (const name of SUBGRAPH_NAMES) {
    const urls = list(env[`${envName(name)}_URLS`]);
    if (urls) subgraphUrls[name] = urls;
    subgraphPolicies[name] = env[`FALLBACK_${envName(name)}`];
  }
  const supergraphPolicies: Record<string, unknown> = {};
  for (const name of SUPERGRAPH_NAMES) supergraphPolicies[name] = env[`FALLBACK_${envName(name)}_GATEWAY`];
  const values = prune({
    host: env.HOST,
    internalSecret: env.INTERNAL_SECRET,
    demoApiKey: env.DEMO_API_KEY,
    router: {
      port: env.ROUTER_PORT,
      gatewayUrls,
      gatewayTimeoutMs: env.GATEWAY_TIMEOUT_MS,
      authCacheTtlMs: env.AUTH_CACHE_TTL_MS,
      authStaleIfErrorMs: env.AUTH_STALE_IF_ERROR_MS,
      maxBodyBytes: env.MAX_BODY_BYTES,
      maxDepth: env.MAX_DEPTH,
    },
    gateway: { subgraphTimeoutMs: env.SUBGRAPH_TIMEOUT_MS, subgraphUrls },
    database: { path: env.DATABASE_PATH },
    chat: chatEnv(env),
    resilience: {
      balancer: env.LOAD_BALANCER,
      healthCheckIntervalMs: env.HEALTH_CHECK_INTERVAL_MS,
      healthCheckTimeoutMs: env.HEALTH_CHECK_TIMEOUT_MS,
      ejectAfterConsecutiveFailures: env.EJECT_AFTER_CONSECUTIVE_FAILURES,
      baseEjectionMs: env.BASE_EJECTION_MS,
      maxEjectionMs: env.MAX_EJECTION_MS,
      maxEjectedShare: env.MAX_EJECTED_SHARE,
      retryBudgetRatio: env.RETRY_BUDGET_RATIO,
      breakerConsecutiveFailures: env.BREAKER_CONSECUTIVE_FAILURES,
      breakerHalfOpenAfterMs: env.BREAKER_HALF_OPEN_AFTER_MS,
      dnsRefreshMs: env.DNS_REFRESH_MS,
    },
    cache: {
      redisUrl: env.REDIS_URL,
      fallbackTtlSeconds: env.FALLBACK_TTL_SECONDS,
      commandTimeoutMs: env.CACHE_COMMAND_TIMEOUT_MS,
      memoryMaxEntries: env.MEMORY_CACHE_MAX_ENTRIES,
    },
    fallback: {
      subgraphs: subgraphPolicies,
      supergraphs: supergraphPolicies,
      publicRootFields: list(env.PUBLIC_ROOT_FIELDS),
      publicEntityTypes: list(env.PUBLIC_ENTITY_TYPES),
    },
  });
  // Set after pruning: `{}` (no field served from the fresh cache) is a value, not an absence.
  if (env.RESPONSE_TTL_SECONDS) {
    const ttls = namesOnly ? env.RESPONSE_TTL_SECONDS : parseJson('RESPONSE_TTL_SECONDS', env.RESPONSE_TTL_SECONDS);
    values.cache = { ...(values.cache as object), responseTtlSeconds: ttls };
  }
  return values;
}

/** Every variable's name where its value would sit in the config. */
const ENV_NAMES = fromEnv(new Proxy({}, { get: (_, name) => (typeof name === 'string' ? name : undefined) }), true);

/** The environment variable behind a config path, e.g. gateway.subgraphUrls.orders.0 → ORDERS_URLS. */
function envNameOf(path: ReadonlyArray<string | number>): string | undefined {
  let node: unknown = ENV_NAMES;
  for (const key of path) {
    if (typeof node === 'string') break;
    if (Array.isArray(node)) node = node[0]; // one variable holds the whole list
    else if (node !== null && typeof node === 'object') node = (node as Record<string, unknown>)[key];
    else return undefined;
  }
  if (Array.isArray(node)) node = node[0];
  return typeof node === 'string' ? node : undefined;
}

function parseJson(name: string, value: string): unknown {
  try {
    return JSON.parse(value);
  } catch {
    throw new ConfigError(`invalid configuration:\n  ${name}: not valid JSON`);
  }
}

/** Drops undefined leaves so zod defaults apply and env only overrides what it sets. */
function prune(value: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(value)) {
    if (v === undefined || v === '') continue;
    if (v && typeof v === 'object' && !Array.isArray(v)) {
      const inner = prune(v as Record<string, unknown>);
      if (Object.keys(inner).length) out[key] = inner;
    } else out[key] = v;
  }
  return out;
}

function deepMerge(base: Record<string, unknown>, over: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base };
  for (const [key, v] of Object.entries(over)) {
    const b = out[key];
    out[key] =
      v && typeof v === 'object' && !Array.isArray(v) && b && typeof b === 'object' && !Array.isArray(b)
        ? deepMerge(b as Record<string, unknown>, v as Record<string, unknown>)
        : v;
  }
  return out;
}

export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** Reads, merges and validates the configuration; throws ConfigError naming every bad key. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  let fileValues: Record<string, unknown> = {};
  if (env.CONFIG_FILE) {
    try {
      fileValues = JSON.parse(readFileSync(env.CONFIG_FILE, 'utf8'));
    } catch (error) {
      throw new ConfigError(`CONFIG_FILE ${env.CONFIG_FILE}: ${(error as Error).message}`);
    }
  }
  const result = checkedConfigSchema.safeParse(deepMerge(fileValues, fromEnv(env)));
  if (!result.success) {
    const problems = result.error.issues.map((issue) => {
      const name = envNameOf(issue.path);
      return `${issue.path.join('.') || '(root)'}${name ? ` (${name})` : ''}: ${issue.message}`;
    });
    throw new ConfigError(`invalid configuration:\n  ${problems.join('\n  ')}`);
  }
  return result.data;
}

/** The shared secret, or a ConfigError saying how to set it. */
export function requireInternalSecret(config: Config): string {
  if (!config.internalSecret) {
    throw new ConfigError('invalid configuration:\n  internalSecret: required (set INTERNAL_SECRET, at least 16 characters)');
  }
  return config.internalSecret;
}

/** The port a component listens on: `PORT` wins over the configured default. */
export function listenPort(env: NodeJS.ProcessEnv, fallback: number): number {
  if (env.PORT === undefined || env.PORT === '') return fallback;
  const parsed = port.safeParse(env.PORT);
  if (!parsed.success) throw new ConfigError(`invalid configuration:\n  PORT: ${parsed.error.issues[0].message}`);
  return parsed.data;
}
