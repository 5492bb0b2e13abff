import { z } from 'zod';

/**
 * The server section of the config: what every component's HTTP server enforces on what it reads
 * (nesting and size of the JSON in a request, the bodies of internal components) and where the
 * operator endpoints listen. Its own file so the hardening settings read in one place; lib/config.ts
 * mounts it as `server`.
 */
const bytes = z.coerce.number().int().positive();

export const serverConfigSchema = z.object({
  /**
   * Address the admin listener (`/internal/state`, `/metrics`) of the router and the gateways binds
   * to; its port is `ADMIN_PORT` per process. Loopback, so operator endpoints are reachable only
   * from the host (a sidecar, a local scraper), never through the client-facing listener.
   * @default "127.0.0.1"
   */
  adminHost: z.string().min(1).default('127.0.0.1'),
  /**
   * Deepest nesting of arrays and objects in one variable's value, and in `extensions`, refused
   * with 400 when the request is read: deeper JSON overflows recursive code (JSON.stringify).
   * @default 32
   */
  maxJsonDepth: z.coerce.number().int().min(1).max(1_000).default(32),
  /**
   * Deepest nesting of brackets (`{`, `[`, `(`) in a GraphQL document, checked before it is parsed:
   * graphql-js parses recursively and overflows the stack past about 1,000 levels. @default 128
   */
  maxDocumentNesting: z.coerce.number().int().min(1).max(1_000).default(128),
  /** Largest `extensions` object of a request, as JSON. @default 16384 */
  maxExtensionsBytes: bytes.default(16 * 1024),
  /** Largest request body of a gateway or subgraph, compressed and decoded alike (the router's is MAX_BODY_BYTES). @default 2 MiB */
  internalMaxBodyBytes: bytes.default(2 * 1024 * 1024),
});

export type ServerConfig = z.infer<typeof serverConfigSchema>;

export function serverFromEnv(env: NodeJS.ProcessEnv) {
  return {
    adminHost: env.ADMIN_HOST,
    maxJsonDepth: env.MAX_JSON_DEPTH,
    maxDocumentNesting: env.MAX_DOCUMENT_NESTING,
    maxExtensionsBytes: env.MAX_EXTENSIONS_BYTES,
    internalMaxBodyBytes: env.INTERNAL_MAX_BODY_BYTES,
  };
}
