import { z } from 'zod';
import { parseRedisUrl } from '../cache/connectRedis.ts';
import type { FallbackPolicy } from '../fallback/staleIfError.ts';
import { chatConfigSchema } from './chatConfig.ts';
import { chatPageConfigSchema } from './chatPageConfig.ts';
import { databaseConfigSchema } from './databaseConfig.ts';
import { edgeConfigSchema } from './edgeConfig.ts';
import { graphiqlConfigSchema } from './graphiqlConfig.ts';
import { serverConfigSchema } from './serverConfig.ts';
import type { Topology } from '../topology/loadTopology.ts';
import { tailLatencyConfigSchema } from './tailLatencyConfig.ts';

/**
 * The shape, defaults and invariants of the one typed configuration every component reads (loaded
 * and validated by loadConfig in config.ts).
 */
const urlList = z
  .array(z.string().url())
  .min(1, 'needs at least one URL');

export const port = z.coerce.number().int().min(0).max(65535);
const fallbackPolicy = z.enum(['cache', 'degraded', 'none']) satisfies z.ZodType<FallbackPolicy>;

const ms = z.coerce.number().int().positive();

export const configSchema = z.object({
  /** Address every component binds to. @default "127.0.0.1" (internal services stay on loopback) */
  host: z.string().min(1).default('127.0.0.1'),
  /** Shared secret that signs the principal the router hands to gateways and subgraphs. No default. */
  internalSecret: z.string().min(16, 'must be at least 16 characters').optional(),
  /**
   * During a rotation, the secret being replaced: gateways and subgraphs accept principals signed
   * with either, the router signs with `internalSecret` only. Unset once the rotation is done.
   */
  internalSecretPrevious: z.string().min(16, 'must be at least 16 characters').optional(),
  /** API key of a seeded FREE-plan user, so a newcomer can watch the rate limit refuse (npm start makes one). */
  demoFreeApiKey: z.string().min(8, 'must be at least 8 characters').optional(),
  /** API key of the seeded demo user; the auth subgraph (re)registers it at start. */
  demoApiKey: z.string().min(8, 'must be at least 8 characters').optional(),
  router: z.object({
    /** @default the topology's router.port (4000) */
    port: port.default(4000),
    /** Gateway instances per supergraph (`<SUPERGRAPH>_GATEWAY_URLS`). @default the topology's */
    gatewayUrls: z.record(z.string(), urlList).default({}),
    /** Deadline for one gateway call. @default 10000 */
    gatewayTimeoutMs: ms.default(10_000),
    /**
     * How long a resolved API key stays cached at the router: the longest a revoked key keeps
     * working at a router that missed the revocation. With REDIS_URL revocations are published to
     * every router, so the TTL only bounds a lost message. @default 30000 with REDIS_URL, else 5000
     */
    authCacheTtlMs: ms.optional(),
    /** How long a key's last valid answer keeps it working while the identity supergraph is down. @default 3600000 */
    authStaleIfErrorMs: ms.default(3_600_000),
    /** Largest request body accepted. @default 1 MiB */
    maxBodyBytes: z.coerce.number().int().positive().default(1024 * 1024),
    /** Deepest selection set accepted. @default 15 */
    maxDepth: z.coerce.number().int().positive().default(15),
    /** Subscriptions one caller (API key's user, else client address) may hold open at once. @default 32 */
    maxStreamsPerCaller: z.coerce.number().int().positive().default(32),
    /**
     * How long a router told to stop keeps serving while `/readyz` says "draining", before it closes its
     * listener and ends its streams, when a balancer probes it: the balancer's fall × interval + check
     * timeout (deploy/haproxy: 2 × 1 s + 2 s); 0 stops at once. @default 4000
     */
    drainNoticeMs: z.coerce.number().int().min(0).default(4_000),
    ...graphiqlConfigSchema,
    ...chatPageConfigSchema,
  }).default({}),
  gateway: z.object({
    /** Deadline of one subgraph attempt; with its one retry it must end before the router's gateway deadline. @default 4000 */
    subgraphTimeoutMs: ms.default(4_000),
    /** Replica URLs per subgraph (`<SUBGRAPH>_URLS`). @default the topology's, else the supergraph's routing URL */
    subgraphUrls: z.record(z.string(), urlList).default({}),
    /**
     * Which executor runs query plans (`GATEWAY_EXECUTOR`): `own` (supergraphs/execution/, compiled per
     * plan) or `apollo` (@apollo/gateway's executeQueryPlan), kept one setting away while they are compared.
     * @default "own"
     */
    executor: z.enum(['own', 'apollo']).default('own'),
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
    /** Hedged queries and adaptive attempt deadlines (tailLatencyConfig.ts). */
    tailLatency: tailLatencyConfigSchema.default({}),
    /**
     * How the router reaches gateways and gateways reach subgraphs: `auto` is HTTP/2 without TLS to
     * an instance that speaks it (a few multiplexed connections per instance), HTTP/1.1 otherwise;
     * `http1` is HTTP/1.1 keep-alive always. @default "auto"
     */
    upstreamProtocol: z.enum(['auto', 'http1']).default('auto'),
  }).default({}),
  cache: z.object({
    /**
     * Redis for the shared caches; without it an in-memory LRU stands in. One node (`redis://`), a
     * Sentinel set (`redis-sentinel://s1:26379,s2:26379/<primary>`) or a Cluster
     * (`redis-cluster://n1:6379,n2:6379`): see lib/cache/connectRedis.ts.
     */
    redisUrl: z.string().superRefine((value, ctx) => {
      try {
        parseRedisUrl(value);
      } catch (error) {
        ctx.addIssue({ code: z.ZodIssueCode.custom, message: (error as Error).message });
      }
    }).optional(),
    /** How long a last good answer is kept for stale-if-error. @default 86400 */
    fallbackTtlSeconds: z.coerce.number().int().positive().default(86_400),
    /** Deadline of a lookup a request waits for (response cache, persisted queries); a slower cache is a miss. @default 150 */
    commandTimeoutMs: ms.default(150),
    /**
     * Deadline of the commands no request waits on: writes (made after the answer is sent) and the
     * stale-if-error lookup, made only once an upstream has failed, when a last good answer is worth
     * more than the milliseconds. Measured: at 150 ms, a loaded 2-core machine (two test stacks, load
     * average above 8) dropped fallback entries the chaos suite then found missing. @default 1000
     */
    backgroundCommandTimeoutMs: ms.default(1_000),
    /** Entries of the in-memory stand-in. @default 10000 */
    memoryMaxEntries: z.coerce.number().int().positive().default(10_000),
    /** Bytes the in-memory stand-in may hold (answers vary from bytes to megabytes). @default 67108864 (64 MiB) */
    memoryMaxBytes: z.coerce.number().int().positive().default(64 * 1024 * 1024),
    /**
     * The router's fresh response cache for public queries, within the `maxAge` their `@cacheControl`
     * hints give. What is public comes from the schema alone, never from here. @default "on"
     */
    responseCache: z.enum(['on', 'off']).default('on'),
    /** Types each mutation changes beyond those it returns; their cached responses are dropped. */
    mutationInvalidates: z.record(z.string(), z.array(z.string())).default({
      placeOrder: ['Order', 'Article'],
      chat: ['Conversation', 'Message'],
    }),
  }).default({}),
  fallback: z.object({
    /**
     * What a failed subgraph gets at its gateway (`FALLBACK_<SUBGRAPH>`): the last good answer, a
     * degraded empty answer, or nothing. @default the topology's, else "none"
     */
    subgraphs: z.record(z.string(), fallbackPolicy).default({}),
    /** The same for a whole failed gateway, applied at the router (`FALLBACK_<SUPERGRAPH>_GATEWAY`). @default the topology's */
    supergraphs: z.record(z.string(), fallbackPolicy).default({}),
  }).default({}),
  /** SQLite file, or PostgreSQL by URL (databaseConfig.ts). */
  database: databaseConfigSchema.default({}),
  /** The chat subgraph: generator pace, optional OpenAI-compatible backend, chunk-log timings (chatConfig.ts). */
  chat: chatConfigSchema.default({}),
  /** The router's door policy: rate limits, operation limits, persisted operations (edgeConfig.ts). */
  edge: edgeConfigSchema.default({}),
  /** What every component's server enforces on requests, and where the admin listener binds (serverConfig.ts). */
  server: serverConfigSchema.default({}),
});

/**
 * A subgraph call and its retry must end before the router stops waiting for the gateway; otherwise
 * the router cancels every call to a hung subgraph mid-retry and its breaker never learns of it.
 */
export const checkedConfigSchema = configSchema.superRefine((config, ctx) => {
  if (config.internalSecretPrevious !== undefined && config.internalSecretPrevious === config.internalSecret) {
    ctx.addIssue({
      code: z.ZodIssueCode.custom,
      path: ['internalSecretPrevious'],
      message: 'equals INTERNAL_SECRET; during a rotation it holds the secret being replaced (unset it otherwise)',
    });
  }
  if (config.gateway.subgraphTimeoutMs * 2 >= config.router.gatewayTimeoutMs) {
    ctx.addIssue({
      code: z.ZodIssueCode.custom,
      path: ['gateway', 'subgraphTimeoutMs'],
      message: `${config.gateway.subgraphTimeoutMs} ms × 2 attempts must stay under router.gatewayTimeoutMs (${config.router.gatewayTimeoutMs} ms); lower SUBGRAPH_TIMEOUT_MS or raise GATEWAY_TIMEOUT_MS`,
    });
  }
});

/** The validated configuration, with the topology it was read against. */
export type Config = z.infer<typeof configSchema> & {
  /** What the router and gateways serve (TOPOLOGY_FILE; the reference deployment by default). */
  topology: Topology;
};
