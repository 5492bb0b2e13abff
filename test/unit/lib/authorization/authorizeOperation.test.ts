import { buildSchema, parse, print } from 'graphql';
import { describe, expect, it } from 'vitest';
import { applyDenials } from '../../../../lib/authorization/applyDenials.ts';
import { readAuthorizationRules, type Caller } from '../../../../lib/authorization/authorizationRules.ts';
import { authorizeOperation } from '../../../../lib/authorization/authorizeOperation.ts';

// Field-level authorization as Apollo Router does it: fields the caller may not see are taken out of
// the operation, answered null (a null in a non-null place goes up), with UNAUTHORIZED_FIELD_OR_TYPE.
const SDL = `
  directive @authenticated on FIELD_DEFINITION | OBJECT | INTERFACE | SCALAR | ENUM
  directive @requiresScopes(scopes: [[String!]!]!) on FIELD_DEFINITION | OBJECT | INTERFACE | SCALAR | ENUM
  type Query { me: User, articles: [Article!]!, search: [Result] }
  type User { id: ID!, name: String!, email: String @authenticated, orders: [Order!]! @requiresScopes(scopes: [["orders:read"]]), quota: Quota }
  type Quota @authenticated { limit: Int! }
  type Order { id: ID! }
  type Article { id: ID!, title: String!, secret: String @requiresScopes(scopes: [["admin"], ["editor", "reviewer"]]) }
  union Result = User | Article
`;
const schema = buildSchema(SDL);
const rules = readAuthorizationRules(SDL);
const anonymous: Caller = { authenticated: false, scopes: new Set() };
const member = (...scopes: string[]): Caller => ({ authenticated: true, scopes: new Set(scopes) });

function authorize(query: string, caller: Caller) {
  const input = parse(query);
  return { input, ...authorizeOperation(schema, rules, input, undefined, caller) };
}

describe('authorizeOperation', () => {
  it('hands back the very document when the caller may see everything', () => {
    const authorized = authorize('{ me { id email quota { limit } orders { id } } }', member('orders:read'));
    expect(authorized.document).toBe(authorized.input);
    expect(authorized.denied).toEqual([]);
  });

  it('takes out what an anonymous caller may not see, fields and fields of protected types alike, and answers them null', () => {
    const authorized = authorize('{ me { id email quota { limit } } articles { id } }', anonymous);
    expect(print(authorized.document)).not.toMatch(/email|quota/);
    expect(authorized.denied.map((d) => d.path)).toEqual([['me', 'email'], ['me', 'quota']]);
    const answer = applyDenials({ me: { id: 'u1' }, articles: [{ id: 'a1' }] }, authorized);
    expect(answer.data).toEqual({ me: { id: 'u1', email: null, quota: null }, articles: [{ id: 'a1' }] });
    expect(answer.errors.map((e) => [e.path, e.extensions.code])).toEqual([
      [['me', 'email'], 'UNAUTHORIZED_FIELD_OR_TYPE'],
      [['me', 'quota'], 'UNAUTHORIZED_FIELD_OR_TYPE'],
    ]);
  });

  it('needs every scope of one set of @requiresScopes, and nulls a non-null field up to its nullable parent', () => {
    expect(authorize('{ articles { secret } }', member('editor', 'reviewer')).denied).toEqual([]);
    expect(authorize('{ articles { secret } }', member('admin')).denied).toEqual([]);
    const partial = authorize('{ articles { id secret } }', member('editor'));
    expect(partial.denied.map((d) => d.path)).toEqual([['articles', '@', 'secret']]);
    expect(applyDenials({ articles: [{ id: 'a1' }, { id: 'a2' }] }, partial).data).toEqual({ articles: [{ id: 'a1', secret: null }, { id: 'a2', secret: null }] });
    // orders is [Order!]!: its null makes `me` null.
    const orders = authorize('{ me { id orders { id } } }', member());
    expect(applyDenials({ me: { id: 'u1' } }, orders).data).toEqual({ me: null });
  });

  it('takes out a field whose whole selection was denied, and inlines a fragment that lost fields', () => {
    const authorized = authorize('query { me { id ...Private } } fragment Private on User { email quota { limit } }', anonymous);
    const printed = print(authorized.document);
    expect(printed).not.toMatch(/fragment Private|email|quota/);
    expect(authorized.denied.map((d) => d.path)).toEqual([['me', 'email'], ['me', 'quota']]);
    const onlyQuota = authorize('{ me { quota { limit } } }', anonymous);
    // `me` lost everything it asked for: it goes too, answered null.
    expect(onlyQuota.denied.map((d) => d.path)).toEqual([['me']]);
    expect(print(onlyQuota.document)).toMatch(/__typename/);
  });

  it('nulls a field denied in a narrower fragment only on objects of that fragment’s type', () => {
    const authorized = authorize('{ search { ... on User { id email } ... on Article { id } } }', anonymous);
    expect(print(authorized.document)).toMatch(/__authorizationTypename: __typename/);
    const answer = applyDenials(
      { search: [{ id: 'u1', __authorizationTypename: 'User' }, { id: 'a1', __authorizationTypename: 'Article' }] },
      authorized,
    );
    expect(answer.data).toEqual({ search: [{ id: 'u1', email: null }, { id: 'a1' }] });
  });

  it('filters a fragment bomb in linear time: 2^30 spreads of a fragment with a denied field, one denial, a small document', () => {
    const levels = 30;
    const query =
      '{ me { ...F0 } } ' +
      Array.from({ length: levels }, (_, i) => `fragment F${i} on User { ...F${i + 1} ...F${i + 1} }`).join(' ') +
      ` fragment F${levels} on User { id email }`;
    const started = performance.now();
    const authorized = authorize(query, anonymous);
    expect(performance.now() - started).toBeLessThan(1_000); // 2^30 walks would take hours
    expect(authorized.denied.map((d) => d.path)).toEqual([['me', 'email']]);
    const printed = print(authorized.document);
    expect(printed).not.toContain('email');
    expect(printed.length).toBeLessThan(query.length * 2);
    // The fragments that kept the caller's fields are spread under new names; the answer is completed as before.
    expect(printed).toMatch(/fragment F30_authorized on User \{\s*id\s*\}/);
    expect(applyDenials({ me: { id: 'u1' } }, authorized).data).toEqual({ me: { id: 'u1', email: null } });
  });

  it('keeps an untouched fragment as a spread, and filters one fragment differently where it is spread twice', () => {
    const authorized = authorize('{ me { ...Who } search { ... on User { ...Who } } } fragment Who on User { id email } fragment Plain on Article { id }', anonymous);
    expect(authorized.denied.map((d) => d.path)).toEqual([['me', 'email'], ['search', '@', 'email']]);
    expect(print(authorized.document)).not.toContain('Plain'); // unused fragments are dropped
  });
});
