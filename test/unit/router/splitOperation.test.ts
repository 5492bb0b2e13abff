import { GraphQLError, buildSchema, parse, validate, type GraphQLSchema } from 'graphql';
import { describe, expect, it } from 'vitest';
import { SupergraphName } from '../../../lib/topology/loadTopology.ts';
import { loadApiSchema } from '../../../router/loadApiSchema.ts';
import { buildRoutingTable, type RoutingTable } from '../../../router/routingTable.ts';
import { splitOperation, type OperationPlan } from '../../../router/splitOperation.ts';

const apiSchemas: Record<SupergraphName, GraphQLSchema> = { identity: loadApiSchema('identity'), commerce: loadApiSchema('commerce') };
const table = buildRoutingTable(apiSchemas);

/** Validates like the router does, splits, and checks each part is a valid operation for its gateway. */
function plan(query: string, variables: Record<string, unknown> = {}, operationName?: string, routing: RoutingTable = table, schemas = apiSchemas): OperationPlan {
  const document = parse(query);
  expect(validate(routing.schema, document).map((e) => e.message)).toEqual([]);
  const result = splitOperation({ document, operationName, variables, query, routingTable: routing });
  for (const part of result.parts) {
    expect(validate(schemas[part.supergraph], parse(part.query)).map((e) => e.message), part.query).toEqual([]);
  }
  if (result.local) expect(validate(routing.schema, result.local.document)).toEqual([]);
  return result;
}

const partOf = (result: OperationPlan, supergraph: SupergraphName) => result.parts.find((p) => p.supergraph === supergraph)!;

describe('splitOperation: passthrough', () => {
  it('sends a one-supergraph operation as the client wrote it, with all its variables', () => {
    const query = 'query Catalog($n: Int) {\n  articles(first: $n) { edges { node { id title } } }\n  topArticles { id }\n}';
    const result = plan(query, { n: 2 });
    expect(result.passthrough).toBe(true);
    expect(result.parts).toHaveLength(1);
    expect(result.parts[0]).toMatchObject({ supergraph: 'commerce', query, variables: { n: 2 }, operationName: 'Catalog', responseKeys: ['articles', 'topArticles'] });
    expect(result.local).toBeUndefined();
  });

  it('is not used when the router answers root __typename itself', () => {
    const result = plan('{ me { id } __typename }');
    expect(result.passthrough).toBe(false);
    expect(result.parts.map((p) => p.supergraph)).toEqual(['identity']);
    expect(result.parts[0].query).not.toContain('__typename');
    expect(result.local?.responseKeys).toEqual(['__typename']);
  });

  it('is not used for a document with several operations, whose other operations a gateway could not validate', () => {
    const result = plan('query A { me { id } } query B { models { id } }', {}, 'B');
    expect(result.passthrough).toBe(false);
    expect(result.parts).toHaveLength(1);
    expect(result.parts[0].query).not.toContain('me');
    expect(result.parts[0].operationName).toBe('B');
  });
});

describe('splitOperation: queries across supergraphs', () => {
  it('gives each supergraph its own root fields, aliases kept, in client order', () => {
    const result = plan('{ first: article(id: "a1") { id } me { id name } second: article(id: "a2") { title } }');
    expect(result.passthrough).toBe(false);
    expect(result.rootFields.map((f) => f.responseKey)).toEqual(['first', 'me', 'second']);
    expect(partOf(result, 'commerce').responseKeys).toEqual(['first', 'second']);
    expect(partOf(result, 'commerce').query).toMatch(/first: article\(id: "a1"\)[\s\S]*second: article\(id: "a2"\)/);
    expect(partOf(result, 'identity').responseKeys).toEqual(['me']);
    expect(partOf(result, 'identity').query).not.toContain('article');
    expect(result.parts.map((p) => p.supergraph)).toEqual(['commerce', 'identity']);
  });

  it('turns a root fragment spanning both supergraphs into filtered inline fragments with its directives', () => {
    const result = plan(
      `query Home($withRoot: Boolean!) {
        ...Root @include(if: $withRoot)
      }
      fragment Root on Query { me { ...UserFields } articles(first: 1) { edges { node { ...ArticleFields } } } }
      fragment UserFields on User { id name }
      fragment ArticleFields on Article { id title }`,
      { withRoot: true },
    );
    const identity = partOf(result, 'identity');
    const commerce = partOf(result, 'commerce');
    expect(identity.query).toContain('... on Query @include(if: $withRoot)');
    expect(commerce.query).toContain('... on Query @include(if: $withRoot)');
    expect(identity.query).not.toContain('fragment Root');
    expect(identity.query).toContain('fragment UserFields on User');
    expect(identity.query).not.toContain('ArticleFields');
    expect(commerce.query).toContain('fragment ArticleFields on Article');
    expect(commerce.query).not.toContain('UserFields');
    expect(identity.variables).toEqual({ withRoot: true });
    expect(commerce.variables).toEqual({ withRoot: true });
  });

  it('walks root inline fragments and nested root spreads', () => {
    const result = plan(`
      { ... on Query { models { id } ...Inner } ... { me { id } } }
      fragment Inner on Query { me2: me { email } topArticles { id } }`);
    const identity = partOf(result, 'identity');
    expect(identity.responseKeys).toEqual(['me2', 'me']);
    expect(identity.query).toContain('me2: me');
    expect(identity.query).not.toMatch(/models|topArticles/);
    expect(partOf(result, 'commerce').responseKeys).toEqual(['models', 'topArticles']);
  });

  it('evaluates @skip/@include to leave out a supergraph whose fields are all skipped', () => {
    const result = plan(
      'query($withMe: Boolean!, $skipModels: Boolean!) { me @include(if: $withMe) { id } models @skip(if: $skipModels) { id } articles { totalCount } }',
      { withMe: false, skipModels: false },
    );
    expect(result.parts.map((p) => p.supergraph)).toEqual(['commerce']);
    const commerce = result.parts[0];
    expect(commerce.query).toContain('models @skip(if: $skipModels)');
    expect(commerce.query).not.toContain('withMe');
    expect(commerce.variables).toEqual({ skipModels: false });
    expect(result.rootFields.map((f) => f.responseKey)).toEqual(['models', 'articles']);
  });

  it('passes each part only the variables and fragments it uses, transitively', () => {
    const result = plan(
      `query Mixed($id: ID!, $first: Int, $tag: String) {
        article(id: $id) { ...WithStats }
        me { ...Profile }
        articles(first: $first, tag: $tag) { totalCount }
      }
      fragment WithStats on Article { ...Basics views }
      fragment Basics on Article { id title }
      fragment Profile on User { id quota { remaining } }`,
      { id: 'a1', first: 3 },
    );
    const commerce = partOf(result, 'commerce');
    const identity = partOf(result, 'identity');
    expect(commerce.variables).toEqual({ id: 'a1', first: 3 });
    expect(commerce.query).toContain('query Mixed($id: ID!, $first: Int, $tag: String)');
    expect(commerce.query).toMatch(/fragment WithStats[\s\S]*fragment Basics/);
    expect(commerce.query).not.toContain('Profile');
    expect(identity.variables).toEqual({});
    expect(identity.query).toMatch(/^query Mixed \{/);
    expect(identity.query).toContain('fragment Profile on User');
    expect(identity.query).not.toMatch(/WithStats|Basics/);
  });

  it('keeps a variable used only inside a fragment below the root', () => {
    const result = plan(
      `query($withTags: Boolean!) { me { id } articles { edges { node { ...A } } } }
       fragment A on Article { id tags @include(if: $withTags) }`,
      { withTags: true, extra: 'ignored' },
    );
    expect(partOf(result, 'commerce').variables).toEqual({ withTags: true });
    expect(partOf(result, 'commerce').query).toContain('query ($withTags: Boolean!)');
    expect(partOf(result, 'identity').variables).toEqual({});
    expect(partOf(result, 'identity').query).not.toContain('withTags');
  });

  it('sends root introspection to the local part with its variables', () => {
    const result = plan('query($name: String!) { __type(name: $name) { name } models { id } __schema { queryType { name } } }', { name: 'Query' });
    expect(result.local?.responseKeys).toEqual(['__type', '__schema']);
    expect(result.local?.variables).toEqual({ name: 'Query' });
    expect(result.parts.map((p) => p.supergraph)).toEqual(['commerce']);
    expect(result.parts[0].variables).toEqual({});
  });

  it('refuses an unknown operation name with OPERATION_RESOLUTION_FAILURE', () => {
    const document = parse('query A { me { id } }');
    try {
      splitOperation({ document, operationName: 'B', routingTable: table });
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(GraphQLError);
      expect((error as GraphQLError).extensions).toMatchObject({ code: 'OPERATION_RESOLUTION_FAILURE', http: { status: 400 } });
    }
  });
});

describe('splitOperation: mutations', () => {
  // The composed supergraphs have mutations in commerce only, so ordering is checked on small ones.
  const schemas = {
    identity: buildSchema('type Query { me: String } type Mutation { rename(name: String!): String! setPlan(plan: String!): String }'),
    commerce: buildSchema('type Query { articles: Int } type Mutation { placeOrder(key: String!): Int! cancel: Boolean }'),
  } as Record<SupergraphName, GraphQLSchema>;
  const small = buildRoutingTable(schemas);

  it('sends alternating runs as separate sub-operations in field order', () => {
    const result = plan(
      'mutation M($name: String!, $key: String!) { r: rename(name: $name) o: placeOrder(key: $key) c: cancel p: setPlan(plan: "PRO") }',
      { name: 'Ann', key: 'k1' },
      undefined,
      small,
      schemas,
    );
    expect(result.passthrough).toBe(false);
    expect(result.parts.map((p) => [p.supergraph, p.responseKeys])).toEqual([
      ['identity', ['r']],
      ['commerce', ['o', 'c']],
      ['identity', ['p']],
    ]);
    expect(result.parts[0].variables).toEqual({ name: 'Ann' });
    expect(result.parts[1].variables).toEqual({ key: 'k1' });
    expect(result.parts[2].variables).toEqual({});
    expect(result.parts[2].query).toContain('p: setPlan(plan: "PRO")');
    expect(result.parts[2].query).not.toContain('rename');
  });

  it('joins runs that a skipped field separated', () => {
    const result = plan(
      'mutation($skip: Boolean!) { a: rename(name: "x") placeOrder(key: "k") @skip(if: $skip) b: setPlan(plan: "FREE") }',
      { skip: true },
      undefined,
      small,
      schemas,
    );
    expect(result.parts.map((p) => [p.supergraph, p.responseKeys])).toEqual([['identity', ['a', 'b']]]);
  });

  it('passes a one-supergraph mutation through', () => {
    const result = plan('mutation { o: placeOrder(key: "k") cancel }', {}, undefined, small, schemas);
    expect(result.passthrough).toBe(true);
    expect(result.parts.map((p) => p.responseKeys)).toEqual([['o', 'cancel']]);
  });
});
