import { z } from 'zod';
import { browserConfigSchema, browserFromEnv } from './browserConfig.ts';
import { flag } from './flag.ts';

/**
 * The edge section of the config: rate limits, operation limits, persisted operations and the
 * browser policy. Its own file so the router's door policy reads in one place; lib/config.ts
 * mounts it as `edge`.
 */

const count = z.coerce.number().int().positive();

/** `LIMIT/WINDOW_SECONDS[/BURST]` in the environment, an object in a config file. */
const ratePolicy = z.preprocess(
  (value) => {
    if (typeof value !== 'string') return value;
    const match = value.trim().match(/^(\d+)\s*\/\s*(\d+)(?:\s*\/\s*(\d+))?$/);
    if (!match) return value;
    return { limit: match[1], windowSeconds: match[2], ...(match[3] ? { burst: match[3] } : {}) };
  },
  z.object(
    {
      /** Requests allowed per window. */
      limit: count,
      /** Window in seconds; `limit` requests per `windowSeconds` is the sustained rate. */
      windowSeconds: count,
      /** Requests that may arrive at once from a rested caller. @default limit */
      burst: count.optional(),
    },
    { invalid_type_error: 'expected "LIMIT/WINDOW_SECONDS[/BURST]", e.g. "600/60"' },
  ),
);
export type RatePolicyConfig = z.infer<typeof ratePolicy>;

const DEFAULT_PLAN_POLICIES: Record<string, RatePolicyConfig> = {
  FREE: { limit: 600, windowSeconds: 60 },
  PRO: { limit: 3_000, windowSeconds: 60 },
  ENTERPRISE: { limit: 12_000, windowSeconds: 60 },
};

const costMode = z.enum(['enforce', 'dry-run', 'off']);
const trustedDocumentsMode = z.enum(['off', 'log', 'enforce']);

export const edgeConfigSchema = z
  .object({
    rateLimit: z
      .object({
        /** @default true */
        enabled: flag.default(true),
        /** Callers without an API key (and callers whose key is refused), per client address. @default 300 per 60 s */
        anonymous: ratePolicy.default({ limit: 300, windowSeconds: 60 }),
        /**
         * Per API key, by the plan of the key's user; merged over the defaults, so setting one plan
         * keeps the others. @default FREE 600, PRO 3000, ENTERPRISE 12000 per 60 s
         */
        plans: z
          .record(z.string(), ratePolicy)
          .default({})
          .transform((plans) => ({ ...DEFAULT_PLAN_POLICIES, ...plans })),
        /** Plan of a valid key whose plan could not be read (users subgraph down). @default "FREE" */
        defaultPlan: z.string().min(1).default('FREE'),
        /**
         * Reverse proxies in front of the router that append to X-Forwarded-For; 0 uses the socket's
         * address (the header is the client's to forge). @default 0
         */
        trustedProxyHops: z.coerce.number().int().min(0).default(0),
        /** In-memory limiter only: callers tracked at most (least recent forgotten first). @default 100000 */
        memoryMaxCallers: count.default(100_000),
      })
      .default({}),
    operationLimits: z
      .object({
        /** Aliases per operation, fragments expanded. @default 30 */
        maxAliases: count.default(30),
        /** Root fields per operation, fragments expanded. @default 20 */
        maxRootFields: count.default(20),
        /** Directives on one field, fragment spread or inline fragment. @default 5 */
        maxDirectivesPerField: count.default(5),
        /** Lexical tokens per document; parsing stops past it, so a huge document costs little. @default 2000 */
        maxTokens: count.default(2_000),
        /** Bytes of the variables JSON. @default 65536 */
        maxVariablesBytes: count.default(64 * 1024),
        /** Highest estimated cost accepted. @default 5000 */
        maxCost: count.default(5_000),
        /** `dry-run` answers every operation and reports its cost in `extensions.cost`. @default "enforce" */
        costMode: costMode.default('enforce'),
        /** Cost of a field of object, interface or union type without @cost. @default 1 */
        defaultFieldCost: z.coerce.number().min(0).default(1),
        /** Cost of a scalar or enum field without @cost. @default 0 */
        scalarFieldCost: z.coerce.number().min(0).default(0),
        /** Added per mutation root field, whose side effects cost more than a read. @default 10 */
        mutationCost: z.coerce.number().min(0).default(10),
        /** Size assumed for a list whose size no argument or @listSize gives. @default 10 */
        defaultListSize: z.coerce.number().int().min(0).default(10),
        /** Arguments that bound a list's size when @listSize names none. @default ["first","last","limit"] */
        slicingArguments: z.array(z.string().min(1)).default(['first', 'last', 'limit']),
      })
      .default({}),
    persistedQueries: z
      .object({
        /** Apollo's automatic persisted queries (hash first, query on PERSISTED_QUERY_NOT_FOUND). @default true */
        apqEnabled: flag.default(true),
        /** How long a registered APQ document is kept. @default 86400 */
        apqTtlSeconds: count.default(86_400),
        /** Trusted documents manifest: Apollo's persisted query manifest or a JSON map of hash to document. */
        manifestPath: z.string().min(1).optional(),
        /** `enforce` refuses operations not in the manifest, `log` only logs them. @default "off" */
        trustedDocuments: trustedDocumentsMode.default('off'),
        /** With `enforce`: refuse a query sent as text even when it is in the manifest (ids only). @default false */
        requireId: flag.default(false),
      })
      .default({}),
    /** CORS, CSRF prevention, GraphiQL and introspection (browserConfig.ts). */
    browser: browserConfigSchema.default({}),
  })
  .superRefine((edge, ctx) => {
    if (!(edge.rateLimit.defaultPlan in edge.rateLimit.plans)) {
      ctx.addIssue({
        code: z.ZodIssueCode.custom,
        path: ['rateLimit', 'defaultPlan'],
        message: `"${edge.rateLimit.defaultPlan}" is not one of the plans (${Object.keys(edge.rateLimit.plans).join(', ')})`,
      });
    }
    if (edge.persistedQueries.trustedDocuments !== 'off' && !edge.persistedQueries.manifestPath) {
      ctx.addIssue({
        code: z.ZodIssueCode.custom,
        path: ['persistedQueries', 'manifestPath'],
        message: `required when trustedDocuments is "${edge.persistedQueries.trustedDocuments}" (set TRUSTED_DOCUMENTS_MANIFEST)`,
      });
    }
  });

export type EdgeConfig = z.infer<typeof edgeConfigSchema>;

/** Environment variables of the edge section, in its shape (undefined where unset). */
export function edgeFromEnv(env: NodeJS.ProcessEnv, list: (value: string | undefined) => string[] | undefined) {
  return {
    rateLimit: {
      enabled: env.RATE_LIMIT_ENABLED,
      anonymous: env.RATE_LIMIT_ANONYMOUS,
      plans: { FREE: env.RATE_LIMIT_FREE, PRO: env.RATE_LIMIT_PRO, ENTERPRISE: env.RATE_LIMIT_ENTERPRISE },
      defaultPlan: env.RATE_LIMIT_DEFAULT_PLAN,
      trustedProxyHops: env.TRUSTED_PROXY_HOPS,
    },
    operationLimits: {
      maxAliases: env.MAX_ALIASES,
      maxRootFields: env.MAX_ROOT_FIELDS,
      maxDirectivesPerField: env.MAX_DIRECTIVES_PER_FIELD,
      maxTokens: env.MAX_TOKENS,
      maxVariablesBytes: env.MAX_VARIABLES_BYTES,
      maxCost: env.MAX_COST,
      costMode: env.COST_MODE,
      defaultFieldCost: env.DEFAULT_FIELD_COST,
      defaultListSize: env.DEFAULT_LIST_SIZE,
      slicingArguments: list(env.COST_SLICING_ARGUMENTS),
    },
    persistedQueries: {
      apqEnabled: env.APQ_ENABLED,
      apqTtlSeconds: env.APQ_TTL_SECONDS,
      manifestPath: env.TRUSTED_DOCUMENTS_MANIFEST,
      trustedDocuments: env.TRUSTED_DOCUMENTS,
      requireId: env.TRUSTED_DOCUMENTS_REQUIRE_ID,
    },
    browser: browserFromEnv(env, list),
  };
}
