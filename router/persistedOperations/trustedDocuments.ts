import { readFileSync } from 'node:fs';
import { stripIgnoredCharacters } from 'graphql';
import { LRUCache } from 'lru-cache';

/** The operations a manifest allows, by id and by text. */
export interface TrustedDocuments {
  /** The document of a manifest id (Apollo's `id`, or the key of a flat map). */
  byId(id: string): string | undefined;
  /** Whether a query sent as text is one of the manifest's, ignoring whitespace, commas and comments. */
  includes(query: string): boolean;
  readonly size: number;
}

interface ApolloManifest {
  format: 'apollo-persisted-query-manifest';
  version: 1;
  operations: Array<{ id: string; name?: string; type?: string; body: string }>;
}

/**
 * Reads a trusted documents manifest in either format the tools write: Apollo's
 * `generate-persisted-query-manifest` (`{format: "apollo-persisted-query-manifest", version: 1,
 * operations: [{id, name, type, body}]}`) or The Guild's (graphql-codegen client preset, Hive): a
 * flat JSON map of hash to document. A malformed file stops start-up with a message naming it.
 */
export function parseTrustedDocuments(json: unknown, source = 'manifest'): TrustedDocuments {
  const entries: Array<[string, string]> = [];
  if (json && typeof json === 'object' && (json as { format?: unknown }).format === 'apollo-persisted-query-manifest') {
    const manifest = json as ApolloManifest;
    if (manifest.version !== 1 || !Array.isArray(manifest.operations)) {
      throw new Error(`${source}: only version 1 of apollo-persisted-query-manifest is understood`);
    }
    for (const [index, operation] of manifest.operations.entries()) {
      if (typeof operation?.id !== 'string' || typeof operation.body !== 'string') {
        throw new Error(`${source}: operations[${index}] needs a string id and body`);
      }
      entries.push([operation.id, operation.body]);
    }
  } else if (json && typeof json === 'object' && !Array.isArray(json)) {
    for (const [id, body] of Object.entries(json)) {
      if (typeof body !== 'string') throw new Error(`${source}: the document of "${id}" is not a string`);
      entries.push([id, body]);
    }
  } else {
    throw new Error(`${source}: expected an apollo-persisted-query-manifest or a JSON map of hash to document`);
  }

  const bodies = new Map(entries);
  const normalised = new Set(entries.map(([, body]) => normalise(body)));
  // Queries sent as text are normalised once each: a client sends the same few again and again.
  const seen = new LRUCache<string, boolean>({ max: 5_000 });
  return {
    byId: (id) => bodies.get(id),
    includes(query) {
      let known = seen.get(query);
      if (known === undefined) seen.set(query, (known = normalised.has(normalise(query))));
      return known;
    },
    size: bodies.size,
  };
}

/** Loads a manifest file (see parseTrustedDocuments). */
export function loadTrustedDocuments(path: string): TrustedDocuments {
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new Error(`trusted documents manifest ${path}: ${(error as Error).message}`);
  }
  return parseTrustedDocuments(json, `trusted documents manifest ${path}`);
}

function normalise(query: string): string {
  try {
    return stripIgnoredCharacters(query);
  } catch {
    return query; // not GraphQL: compared as sent, and the parser will say what is wrong
  }
}
