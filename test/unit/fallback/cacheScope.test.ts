import { buildSchema, parse } from 'graphql';
import { describe, expect, it } from 'vitest';
import { readCacheHints } from '../../../lib/fallback/cacheHints.ts';
import { cacheScopeOf } from '../../../lib/fallback/cacheScope.ts';
import { referenceSupergraphSdl as readSupergraphSdl } from '../../support/referenceSupergraph.ts';
import { loadApiSchema } from '../../../router/loadApiSchema.ts';
import { buildRoutingTable } from '../../../router/routingTable.ts';

// The router's view: the merged public schema with the hints of both composed supergraphs.
const table = buildRoutingTable(
  { identity: loadApiSchema('identity'), commerce: loadApiSchema('commerce') },
  readCacheHints(readSupergraphSdl('identity'), readSupergraphSdl('commerce')),
);
const scope = (query: string) => cacheScopeOf(table.schema, table.cacheHints, parse(query));

describe('what is public, from the composed schemas’ @cacheControl hints', () => {
  it('shares the catalog and the models, with the shortest maxAge of what they select', () => {
    expect(scope('{ articles(first: 2) { edges { node { id title views } } pageInfo { hasNextPage } totalCount } }')).toEqual({ isPublic: true, maxAge: 10 });
    // A field's own hint wins over its type's, as in Apollo Server: topArticles says 30, Article 10.
    expect(scope('{ topArticles { id sales } }')).toEqual({ isPublic: true, maxAge: 30 });
    expect(scope('{ models { id name } }')).toEqual({ isPublic: true, maxAge: 300 });
    expect(scope('query Q { article(id: "a1") { ...F } } fragment F on Article { title }')).toEqual({ isPublic: true, maxAge: 10 });
  });

  it('keeps everything about a user private, and so any operation that selects it', () => {
    for (const query of ['{ me { id } }', '{ myOrders { totalCount } }', '{ articles { totalCount } me { id } }', '{ conversation(id: "c1") { id } }']) {
      expect(scope(query), query).toEqual({ isPublic: false, maxAge: 0 });
    }
  });

  it('never treats a mutation as public', () => {
    expect(scope('mutation { placeOrder(input: { idempotencyKey: "k", lines: [] }) { id } }').isPublic).toBe(false);
  });
});

describe('cacheScopeOf on hand-written hints: a private field is never shared, whatever the TTLs', () => {
  const sdl = `
    directive @cacheControl(maxAge: Int, scope: CacheControlScope, inheritMaxAge: Boolean) on FIELD_DEFINITION | OBJECT | INTERFACE | UNION
    enum CacheControlScope { PUBLIC PRIVATE }
    type Query {
      catalog: Catalog @cacheControl(scope: PUBLIC, maxAge: 600)
      cachedButUnscoped: Catalog @cacheControl(maxAge: 600)
      unhinted: Catalog
    }
    type Catalog @cacheControl(inheritMaxAge: true) { name: String  owner: Owner  secret: String @cacheControl(scope: PRIVATE, maxAge: 600)  items: [Item] }
    type Owner @cacheControl(maxAge: 600) { email: String }
    type Item @cacheControl(scope: PUBLIC, maxAge: 60) { id: ID }`;
  const schema = buildSchema(sdl);
  const hints = readCacheHints(sdl);
  const of = (query: string) => cacheScopeOf(schema, hints, parse(query));

  it('shares a root field hinted PUBLIC and what inherits from it', () => {
    expect(of('{ catalog { name items { id } } }')).toEqual({ isPublic: true, maxAge: 60 });
  });

  it('refuses a PRIVATE field, a maxAge without a PUBLIC scope, and anything unhinted', () => {
    expect(of('{ catalog { secret } }').isPublic).toBe(false);
    expect(of('{ catalog { owner { email } } }').isPublic).toBe(false);
    expect(of('{ cachedButUnscoped { name } }').isPublic).toBe(false);
    expect(of('{ unhinted { name } }').isPublic).toBe(false);
    expect(of('{ catalog { ... on Catalog { secret } } }').isPublic).toBe(false);
  });

  it('judges a gateway entity fetch by the types it asks for', () => {
    expect(of('query($r: [_Any!]!) { _entities(representations: $r) { ... on Item { id } } }').isPublic).toBe(true);
    expect(of('query($r: [_Any!]!) { _entities(representations: $r) { ... on Owner { email } } }').isPublic).toBe(false);
    expect(of('query($r: [_Any!]!) { _entities(representations: $r) { __typename } }').isPublic).toBe(false);
  });
});
