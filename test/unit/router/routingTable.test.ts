import { buildSchema, getNamedType, isNonNullType, printType } from 'graphql';
import { describe, expect, it } from 'vitest';
import { loadApiSchema } from '../../../router/loadApiSchema.ts';
import { buildRoutingTable } from '../../../router/routingTable.ts';

const real = () => buildRoutingTable({ identity: loadApiSchema('identity'), commerce: loadApiSchema('commerce') });

describe('buildRoutingTable with the composed supergraphs', () => {
  it('routes every root field to the supergraph that owns it', () => {
    const table = real();
    expect(table.ownerOf('query', 'me')).toBe('identity');
    expect(table.ownerOf('query', 'articles')).toBe('commerce');
    expect(table.ownerOf('query', 'myOrders')).toBe('commerce');
    expect(table.ownerOf('mutation', 'placeOrder')).toBe('commerce');
    expect(table.ownerOf('mutation', 'me')).toBeUndefined();
    expect(table.ownerOf('query', 'nope')).toBeUndefined();
    expect(table.supergraphs).toEqual(['identity', 'commerce']);
  });

  it('hides router-only root fields and the types only they use, but still routes them', () => {
    const table = real();
    expect(table.schema.getQueryType()!.getFields()._internalAuthenticate).toBeUndefined();
    expect(table.schema.getType('AuthenticatedPrincipal')).toBeUndefined();
    expect(table.ownerOf('query', '_internalAuthenticate')).toBe('identity');
  });

  it('makes every Query and Mutation root field nullable, and nothing below the root', () => {
    const table = real();
    for (const root of [table.schema.getQueryType()!, table.schema.getMutationType()!]) {
      for (const field of Object.values(root.getFields())) expect(isNonNullType(field.type), `${root.name}.${field.name}`).toBe(false);
    }
    const articles = table.schema.getQueryType()!.getFields().articles;
    expect(String(articles.type)).toBe('ArticleConnection');
    expect(String(table.schema.getQueryType()!.getFields().models.type)).toBe('[Model!]');
    expect(String(table.schema.getMutationType()!.getFields().placeOrder.args[0].type)).toBe('PlaceOrderInput!');
    const connection = getNamedType(articles.type) as never as { getFields(): Record<string, { type: unknown }> };
    expect(String(connection.getFields().totalCount.type)).toBe('Int!');
  });

  it('keeps descriptions and argument defaults', () => {
    const printed = printType(real().schema.getQueryType()!);
    expect(printed).toContain('topArticles(first: Int = 5, by: ArticleMetric = VIEWS): [Article!]');
    expect(printed).toContain('"""The catalog, in id order; filter by tag."""');
  });
});

describe('buildRoutingTable conflicts', () => {
  it('throws naming the field and both supergraphs when two define the same root field', () => {
    const identity = buildSchema('type Query { me: String, shared: Int }');
    const commerce = buildSchema('type Query { articles: [String!]!, shared: Int }');
    expect(() => buildRoutingTable({ identity, commerce })).toThrow(/Query\.shared.*identity.*commerce/);
  });

  it('throws on a clashing mutation field too', () => {
    const identity = buildSchema('type Query { me: String } type Mutation { doIt: Int }');
    const commerce = buildSchema('type Query { articles: Int } type Mutation { doIt: Int }');
    expect(() => buildRoutingTable({ identity, commerce })).toThrow(/Mutation\.doIt/);
  });

  it('throws naming the type when two supergraphs define it differently', () => {
    const identity = buildSchema('type Query { me: PageInfo } type PageInfo { hasNextPage: Boolean! }');
    const commerce = buildSchema('type Query { articles: PageInfo } type PageInfo { hasNextPage: Boolean!, endCursor: String }');
    expect(() => buildRoutingTable({ identity, commerce })).toThrow(/type PageInfo.*identity.*commerce/);
  });

  it('accepts a type both supergraphs define identically', () => {
    const sdl = 'type PageInfo { hasNextPage: Boolean! endCursor: String }';
    const table = buildRoutingTable({
      identity: buildSchema(`type Query { me: PageInfo } ${sdl}`),
      commerce: buildSchema(`type Query { articles: PageInfo! } ${sdl}`),
    });
    expect(String(table.schema.getQueryType()!.getFields().articles.type)).toBe('PageInfo');
    expect(table.schema.getType('PageInfo')).toBeDefined();
  });
});
