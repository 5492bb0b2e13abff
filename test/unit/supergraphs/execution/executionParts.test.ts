import { buildSchema } from 'graphql';
import { describe, expect, it } from 'vitest';
import { compileRewrites } from '../../../../supergraphs/execution/dataRewrites.ts';
import { errorPathMapper } from '../../../../supergraphs/execution/errorPaths.ts';
import { mergeAnswer } from '../../../../supergraphs/execution/mergeAnswer.ts';
import { compileRepresentation } from '../../../../supergraphs/execution/representations.ts';
import { typeConditionsOf } from '../../../../supergraphs/execution/typeConditions.ts';

// The plan executor's parts on their own, for the cases the reference supergraphs never produce:
// @interfaceObject rewrites, representations behind type conditions, merges of lists, error paths of
// entities at a nested list.
const schema = buildSchema(`
  interface Media { id: ID! }
  type Book implements Media { id: ID! title: String author: Author }
  type Movie implements Media { id: ID! minutes: Int }
  type Author { name: String }
  union Result = Book | Movie
  type Query { media: [Media] }
`);
const types = typeConditionsOf(schema);

describe('type conditions', () => {
  it('match an object by its own type or an abstract type it belongs to, and nothing unknown', () => {
    expect(types.objectMatches('Book', 'Media', false)).toBe(true);
    expect(types.objectMatches('Book', 'Result', false)).toBe(true);
    expect(types.objectMatches('Movie', 'Book', false)).toBe(false);
    expect(types.objectMatches(undefined, 'Book', false)).toBe(false);
    expect(types.objectMatches(undefined, 'Book', true)).toBe(true);
    expect(types.fragmentApplies('Media', undefined, 'Book')).toBe(true);
    expect(types.fragmentApplies('Book', 'Secret', 'Media')).toBe(false);
  });
});

describe('representations', () => {
  const representationOf = compileRepresentation(
    [{ kind: 'InlineFragment', typeCondition: 'Book', selections: [{ kind: 'Field', name: '__typename' }, { kind: 'Field', name: 'id' }, { kind: 'Field', name: 'author', selections: [{ kind: 'Field', name: 'name' }] }] }],
    types,
  );

  it('take the required fields of an object the fragment applies to, nested selections included', () => {
    expect(representationOf({ __typename: 'Book', id: 'b1', title: 'Dune', author: { name: 'Herbert', born: 1920 } })).toEqual({ __typename: 'Book', id: 'b1', author: { name: 'Herbert' } });
  });

  it('give an empty representation (no __typename: not sent) to an object of another type or lacking an input, and null at the top', () => {
    expect(representationOf({ __typename: 'Movie', id: 'm1' })).toEqual({});
    // `author` missing (an earlier fetch failed): the fragment yields nothing, as Apollo's does.
    expect(representationOf({ __typename: 'Book', id: 'b1' })).toEqual({});
    const strict = compileRepresentation([{ kind: 'Field', name: '__typename' }, { kind: 'Field', name: 'id' }], types);
    expect(strict({ __typename: 'Book' })).toBeNull();
  });
});

describe('rewrites', () => {
  it('set a value under a type condition (the interface name an @interfaceObject subgraph expects), passing objects without __typename', () => {
    const rewrite = compileRewrites([{ kind: 'ValueSetter', path: ['... on Book', '__typename'], setValueTo: 'Media' }], types)!;
    const values: Array<Record<string, unknown>> = [{ __typename: 'Book', id: 'b1' }, { __typename: 'Movie', id: 'm1' }, { id: 'x' }];
    for (const value of values) rewrite(value);
    expect(values).toEqual([{ __typename: 'Media', id: 'b1' }, { __typename: 'Movie', id: 'm1' }, { __typename: 'Media', id: 'x' }]);
  });

  it('rename an aliased answer back under its field through lists, leaving the alias undefined', () => {
    const rewrite = compileRewrites([{ kind: 'KeyRenamer', path: ['media', 'title__alias'], renameKeyTo: 'title' }], types)!;
    const answer = { media: [{ title__alias: 'Dune' }, { other: 1 }] };
    rewrite(answer);
    expect(answer.media).toEqual([{ title: 'Dune', title__alias: undefined }, { other: 1 }]);
  });

  it('are nothing when the fetch has none', () => {
    expect(compileRewrites(undefined, types)).toBeUndefined();
  });
});

describe('merging an answer in place', () => {
  it('takes new keys as they are, merges objects and same-length lists element by element, replaces the rest', () => {
    const shared = { name: 'Herbert' };
    const target: Record<string, unknown> = { id: 'b1', author: { born: 1920 }, tags: [{ a: 1 }, { a: 2 }], list: [1, 2] };
    mergeAnswer(target, { title: 'Dune', author: { name: 'Herbert' }, tags: [{ b: 1 }, { b: 2 }], list: [3], extra: shared, gone: undefined });
    expect(target).toEqual({ id: 'b1', author: { born: 1920, name: 'Herbert' }, tags: [{ a: 1, b: 1 }, { a: 2, b: 2 }], list: [3], title: 'Dune', extra: shared });
    expect(target.extra).toBe(shared);
    expect('gone' in target).toBe(false);
  });

  it('keeps a __proto__ key of a parsed answer as data, never as the target’s prototype', () => {
    const target: Record<string, unknown> = {};
    mergeAnswer(target, JSON.parse('{"__proto__":{"polluted":true}}'));
    expect(Object.getPrototypeOf(target)).toBe(Object.prototype);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(Object.hasOwn(target, '__proto__')).toBe(true);
  });
});

describe('error paths', () => {
  const result = { media: [{ reviews: [{ id: 'r1' }, null, { id: 'r3' }] }, null, { reviews: [{ id: 'r4' }] }] };

  it('put an _entities error on the entity at its index among those the fetch path reaches (nulls skipped)', () => {
    const pathOf = errorPathMapper(true, ['media', '@', 'reviews', '@'], result);
    expect(pathOf(['_entities', 0, 'body'])).toEqual(['media', 0, 'reviews', 0, 'body']);
    expect(pathOf(['_entities', 2, 'body'])).toEqual(['media', 2, 'reviews', 0, 'body']);
    expect(pathOf(['_entities', 9])).toEqual([]);
  });

  it('prefix any other error with the fetch’s path, and leave a path-less error without one', () => {
    const pathOf = errorPathMapper(false, [], result);
    expect(pathOf(['media', 1])).toEqual(['media', 1]);
    expect(pathOf(undefined)).toBeUndefined();
  });
});
