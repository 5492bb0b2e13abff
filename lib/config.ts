import { readFileSync } from 'node:fs';
import { z } from 'zod';
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
    /** Largest request body accepted. @default 1 MiB */
    maxBodyBytes: z.coerce.number().int().positive().default(1024 * 1024),
    /** Deepest selection set accepted. @default 15 */
    maxDepth: z.coerce.number().int().positive().default(15),
  }).default({}),
  gateway: z.object({
    /** Deadline for one subgraph call. @default 5000 */
    subgraphTimeoutMs: ms.default(5_000),
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
  database: z.object({
    /** SQLite file shared by all replicas. @default "data/supergraph.db" */
    path: z.string().min(1).default('data/supergraph.db'),
  }).default({}),
});

export type Config = z.infer<typeof configSchema>;

function list(value: string | undefined): string[] | undefined {
  if (value === undefined || value.trim() === '') return undefined;
  return value.split(',').map((s) => s.trim()).filter(Boolean);
}

function envName(name: string): string {
  return name.toUpperCase();
}

/** Turns environment variables into the shape of the config (only the ones that are set). */
function fromEnv(env: NodeJS.ProcessEnv): Record<string, unknown> {
  const gatewayUrls: Record<string, unknown> = {};
  for (const name of SUPERGRAPH_NAMES) {
    const urls = list(env[`${envName(name)}_GATEWAY_URLS`]);
    if (urls) gatewayUrls[name] = urls;
  }
  const subgraphUrls: Record<string, unknown> = {};
  for (const name of SUBGRAPH_NAMES) {
    const urls = list(env[`${envName(name)}_URLS`]);
    if (urls) subgraphUrls[name] = urls;
  }
  return prune({
    host: env.HOST,
    internalSecret: env.INTERNAL_SECRET,
    demoApiKey: env.DEMO_API_KEY,
    router: {
      port: env.ROUTER_PORT,
      gatewayUrls,
      gatewayTimeoutMs: env.GATEWAY_TIMEOUT_MS,
      authCacheTtlMs: env.AUTH_CACHE_TTL_MS,
      maxBodyBytes: env.MAX_BODY_BYTES,
      maxDepth: env.MAX_DEPTH,
    },
    gateway: { subgraphTimeoutMs: env.SUBGRAPH_TIMEOUT_MS, subgraphUrls },
    database: { path: env.DATABASE_PATH },
  });
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
  const result = configSchema.safeParse(deepMerge(fileValues, fromEnv(env)));
  if (!result.success) {
    const problems = result.error.issues.map((issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`);
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
