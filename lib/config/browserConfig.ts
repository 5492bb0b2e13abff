import { z } from 'zod';
import { flag } from './flag.ts';

/**
 * The browser section of the edge config: CORS, CSRF prevention and introspection.
 * Its own file so edgeConfig.ts stays about limits; edgeConfig mounts it as `edge.browser`.
 */

/** An origin as browsers send it (`https://app.example.com`, no path), or `*` for any. */
const origin = z.string().refine((value) => {
  if (value === '*') return true;
  try {
    return new URL(value).origin === value;
  } catch {
    return false;
  }
}, 'expected an origin such as "https://app.example.com" (scheme, host and port only) or "*"');

export const browserConfigSchema = z
  .object({
    /**
     * Origins whose pages may call the router from a browser; `*` allows any (never with
     * credentials). @default none: no CORS headers, so browsers refuse cross-origin reads
     */
    corsOrigins: z.array(origin).default([]),
    /** Let browsers send cookies and HTTP auth cross-origin (API keys in headers need no credentials). @default false */
    corsAllowCredentials: flag.default(false),
    /** How long a browser may cache a preflight answer. @default 600 */
    corsMaxAgeSeconds: z.coerce.number().int().min(0).default(600),
    /** Refuse "simple" requests that could be cross-site forgeries, as @apollo/server does. @default true */
    csrfPrevention: flag.default(true),
    /** Any of these, non-empty, makes a GET or simple POST acceptable. @default ["x-apollo-operation-name","apollo-require-preflight"] */
    csrfRequestHeaders: z.array(z.string().min(1).transform((h) => h.toLowerCase())).min(1).default(['x-apollo-operation-name', 'apollo-require-preflight']),
    /** Answer `__schema` / `__type`. @default true, false when NODE_ENV=production */
    introspection: flag.optional(),
    /** NODE_ENV, read for the default above. (GraphiQL has its own switch: router.graphiql, GRAPHIQL.) */
    nodeEnv: z.string().optional(),
  })
  .superRefine((browser, ctx) => {
    if (browser.corsAllowCredentials && browser.corsOrigins.includes('*')) {
      ctx.addIssue({
        code: z.ZodIssueCode.custom,
        path: ['corsOrigins'],
        message: '"*" cannot be combined with credentials (CORS_ALLOW_CREDENTIALS): list the origins instead',
      });
    }
  })
  .transform(({ nodeEnv, ...browser }) => {
    const development = nodeEnv !== 'production';
    return { ...browser, introspection: browser.introspection ?? development };
  });

export type BrowserConfig = z.infer<typeof browserConfigSchema>;

/** Environment variables of the browser section, in its shape (undefined where unset). */
export function browserFromEnv(env: NodeJS.ProcessEnv, list: (value: string | undefined) => string[] | undefined) {
  return {
    corsOrigins: list(env.CORS_ORIGINS),
    corsAllowCredentials: env.CORS_ALLOW_CREDENTIALS,
    corsMaxAgeSeconds: env.CORS_MAX_AGE_SECONDS,
    csrfPrevention: env.CSRF_PREVENTION,
    csrfRequestHeaders: list(env.CSRF_REQUEST_HEADERS),
    introspection: env.INTROSPECTION,
    nodeEnv: env.NODE_ENV,
  };
}
