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
