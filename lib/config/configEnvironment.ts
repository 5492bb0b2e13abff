import { chatEnv } from './chatConfig.ts';
import { chatPageConfigFromEnv } from './chatPageConfig.ts';
import { databaseFromEnv } from './databaseConfig.ts';
import { edgeFromEnv } from './edgeConfig.ts';
import { graphiqlConfigFromEnv } from './graphiqlConfig.ts';
import { serverFromEnv } from './serverConfig.ts';
import { tailLatencyFromEnv } from './tailLatencyConfig.ts';

/** Environment variables as config values, and the variable behind each config path. */

/** The names a topology gives: they name environment variables too (ORDERS_URLS, FALLBACK_COMMERCE_GATEWAY). */
export interface TopologyNames {
  supergraphs: readonly string[];
  subgraphs: readonly string[];
}
function list(value: string | undefined): string[] | undefined {
  if (value === undefined || value.trim() === '') return undefined;
  return value.split(',').map((s) => s.trim()).filter(Boolean);
}

function envName(name: string): string {
  return name.toUpperCase();
}

/**
 * Turns environment variables into the shape of the config (only the ones that are set). Given a
 * proxy that answers every name with itself, it yields the map error messages use to say which
 * variable to fix.
 */
export function fromEnv(env: NodeJS.ProcessEnv, names: TopologyNames): Record<string, unknown> {
  const gatewayUrls: Record<string, unknown> = {};
  for (const name of names.supergraphs) {
    const urls = list(env[`${envName(name)}_GATEWAY_URLS`]);
    if (urls) gatewayUrls[name] = urls;
  }
  const subgraphUrls: Record<string, unknown> = {};
  const subgraphPolicies: Record<string, unknown> = {};
  for (const name of names.subgraphs) {
    const urls = list(env[`${envName(name)}_URLS`]);
    if (urls) subgraphUrls[name] = urls;
    subgraphPolicies[name] = env[`FALLBACK_${envName(name)}`];
  }
  const supergraphPolicies: Record<string, unknown> = {};
  for (const name of names.supergraphs) supergraphPolicies[name] = env[`FALLBACK_${envName(name)}_GATEWAY`];
  const values = prune({
    host: env.HOST,
    internalSecret: env.INTERNAL_SECRET,
    internalSecretPrevious: env.INTERNAL_SECRET_PREVIOUS,
    demoApiKey: env.DEMO_API_KEY,
    demoFreeApiKey: env.DEMO_FREE_API_KEY,
    router: {
      port: env.ROUTER_PORT,
      gatewayUrls,
      gatewayTimeoutMs: env.GATEWAY_TIMEOUT_MS,
      authCacheTtlMs: env.AUTH_CACHE_TTL_MS,
      authStaleIfErrorMs: env.AUTH_STALE_IF_ERROR_MS,
      maxBodyBytes: env.MAX_BODY_BYTES,
      maxDepth: env.MAX_DEPTH,
      maxStreamsPerCaller: env.MAX_STREAMS_PER_CALLER,
      drainNoticeMs: env.DRAIN_NOTICE_MS,
      ...graphiqlConfigFromEnv(env),
      ...chatPageConfigFromEnv(env),
    },
    gateway: { subgraphTimeoutMs: env.SUBGRAPH_TIMEOUT_MS, subgraphUrls, executor: env.GATEWAY_EXECUTOR },
    database: databaseFromEnv(env),
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
      upstreamProtocol: env.UPSTREAM_PROTOCOL,
      breakerConsecutiveFailures: env.BREAKER_CONSECUTIVE_FAILURES,
      breakerHalfOpenAfterMs: env.BREAKER_HALF_OPEN_AFTER_MS,
      dnsRefreshMs: env.DNS_REFRESH_MS,
      tailLatency: tailLatencyFromEnv(env),
    },
    cache: {
      redisUrl: env.REDIS_URL,
      fallbackTtlSeconds: env.FALLBACK_TTL_SECONDS,
      commandTimeoutMs: env.CACHE_COMMAND_TIMEOUT_MS,
      backgroundCommandTimeoutMs: env.CACHE_BACKGROUND_COMMAND_TIMEOUT_MS,
      memoryMaxEntries: env.MEMORY_CACHE_MAX_ENTRIES,
      memoryMaxBytes: env.MEMORY_CACHE_MAX_BYTES,
      responseCache: env.RESPONSE_CACHE,
    },
    fallback: {
      subgraphs: subgraphPolicies,
      supergraphs: supergraphPolicies,
    },
    edge: edgeFromEnv(env, list),
    server: serverFromEnv(env),
  });
  return values;
}

/** Every variable's name where its value would sit in the config. */
const everyName = new Proxy({}, { get: (_, name) => (typeof name === 'string' ? name : undefined) });

/** The environment variable behind a config path, e.g. gateway.subgraphUrls.orders.0 → ORDERS_URLS. */
export function envNameOf(path: ReadonlyArray<string | number>, names: TopologyNames): string | undefined {
  let node: unknown = fromEnv(everyName, names);
  for (const key of path) {
    if (typeof node === 'string') break;
    if (Array.isArray(node)) node = node[0]; // one variable holds the whole list
    else if (node !== null && typeof node === 'object') node = (node as Record<string, unknown>)[key];
    else return undefined;
  }
  if (Array.isArray(node)) node = node[0];
  return typeof node === 'string' ? node : undefined;
}

/** Drops undefined leaves so zod defaults apply and env only overrides what it sets. */
export function prune(value: Record<string, unknown>): Record<string, unknown> {
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

export function deepMerge(base: Record<string, unknown>, over: Record<string, unknown>): Record<string, unknown> {
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
