import { z } from 'zod';

const port = z.number().int().min(0).max(65535);
/** A replica or gateway URL; `dns+http://name:port/path` expands to every address of `name`. */
const url = z.string().regex(/^(dns\+)?https?:\/\/\S+$/, 'expected an http(s) URL (or dns+http://…)');
const name = z.string().regex(/^[A-Za-z][A-Za-z0-9_]*$/, 'letters, digits and _ (it also names environment variables)');
const fallbackPolicy = z.enum(['cache', 'degraded', 'none']);

const subgraphSchema = z
  .object({
    /** Replica URLs. @default the routing URL the supergraph names */
    replicas: z.array(url).min(1).optional(),
    /** What answers for this subgraph's fields when every replica fails. @default "none" */
    fallback: fallbackPolicy.default('none'),
    /**
     * A path on each replica's origin that health checks GET (such as `/healthz`). @default none: a
     * `{ __typename }` query to the replica's URL, which every GraphQL server answers
     */
    healthCheck: z.string().regex(/^\/\S*$/, 'a path starting with /').optional(),
  })
  .strict();

const positive = z.number().int().positive();

/**
 * A supergraph's own door policy at the router, each part defaulting to the router-wide setting:
 * identity and commerce are different risks. An operation spanning supergraphs is checked against
 * each part's policy; a refused part is answered like a failed one, the others served.
 */
const policySchema = z
  .object({
    /**
     * `required`: no anonymous call reaches this supergraph (its fields are UNAUTHENTICATED);
     * `optional`: anonymous callers get what the schema lets anyone see; `none`: it is always called
     * as the anonymous caller, whoever asks. @default "optional"
     */
    auth: z.enum(['required', 'optional', 'none']).optional(),
    /** Operation limits on this supergraph's part of an operation. @default the router-wide limits */
    limits: z
      .object({ maxDepth: positive, maxAliases: positive, maxRootFields: positive, maxDirectivesPerField: positive, maxCost: positive })
      .partial()
      .strict()
      .optional(),
    /**
     * Rate plans for the requests that reach this supergraph, on top of the router-wide ones:
     * `LIMIT/WINDOW_SECONDS[/BURST]` by plan (`FREE`, `PRO`, …) and `anonymous`. Plans left out take
     * no allowance here. @default none
     */
    rateLimits: z.record(z.string().min(1), z.string().regex(/^\d+\/\d+(\/\d+)?$/, 'expected "LIMIT/WINDOW_SECONDS[/BURST]", e.g. "60/60"')).optional(),
  })
  .strict();
export type SupergraphPolicyFile = z.infer<typeof policySchema>;

const supergraphSchema = z
  .object({
    /** A composed supergraph SDL file. */
    schema: z.string().min(1).optional(),
    /** A rover supergraph config, composed at start. */
    rover: z.string().min(1).optional(),
    /** Where this supergraph's gateway listens by default (`npm run gateway -- NAME`). */
    gateway: z.object({ port: port.default(4001), adminPort: port.default(9001) }).strict().default({}),
    /** Gateway instance URLs the router balances. @default one, on gateway.port of 127.0.0.1 */
    gateways: z.array(url).min(1).optional(),
    /** What answers for this supergraph's fields at the router when every gateway fails. @default "cache" */
    fallback: fallbackPolicy.default('cache'),
    /** Per subgraph, by the name the supergraph gives it. @default the supergraph's own routing URLs */
    subgraphs: z.record(name, subgraphSchema).default({}),
    /** This supergraph's auth, operation limits and rate plans at the router. @default the router-wide ones */
    policy: policySchema.default({}),
  })
  .strict()
  .refine((s) => Boolean(s.schema) !== Boolean(s.rover), { message: 'give exactly one of "schema" (a composed SDL) or "rover" (a rover config)' });

/** The topology file: what a router and its gateways serve, as data. */
export const topologySchema = z
  .object({
    router: z.object({ port: port.default(4000), adminPort: port.default(9000) }).strict().default({}),
    auth: z.object({ apiKeys: z.string().min(1).default('none') }).strict().default({}),
    supergraphs: z.record(name, supergraphSchema).refine((s) => Object.keys(s).length > 0, 'name at least one supergraph'),
  })
  .strict()
  .superRefine((topology, ctx) => {
    if (topology.auth.apiKeys !== 'none' && !topology.supergraphs[topology.auth.apiKeys]) {
      ctx.addIssue({ code: z.ZodIssueCode.custom, path: ['auth', 'apiKeys'], message: `"${topology.auth.apiKeys}" is not a supergraph of this topology (or "none")` });
    }
  });

export type TopologyFile = z.infer<typeof topologySchema>;
export type SupergraphEntry = TopologyFile['supergraphs'][string];
