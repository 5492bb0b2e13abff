import { parse } from 'graphql';
import { describe, expect, it } from 'vitest';
import { documentNesting } from '../../../lib/server/documentNesting.ts';

describe('documentNesting', () => {
  it('counts the brackets graphql-js recurses into, and none inside strings or comments', () => {
    expect(documentNesting('{ a }', 10)).toEqual({ depth: 1, exceeded: false });
    expect(documentNesting('query($v: [[Int]]) { a(x: { y: [1] }) { b } }', 10).depth).toBe(4); // { ( { [
    expect(documentNesting('{ a(s: "{{{{[[[[((((", t: "\\"{{{") }', 2)).toEqual({ depth: 2, exceeded: false });
    expect(documentNesting('{ a(s: """ {{{ \\""" [[[ """) } # {{{{{{', 2)).toEqual({ depth: 2, exceeded: false });
    expect(documentNesting('{ a { b { c } } }', 2)).toEqual({ depth: 3, exceeded: true });
  });

  it('stops a document at the limit that would otherwise overflow the parser', () => {
    const deep = `{ a(x: ${'['.repeat(10_000)}1${']'.repeat(10_000)}) }`;
    expect(() => parse(deep)).toThrow(RangeError);
    expect(documentNesting(deep, 128)).toEqual({ depth: 129, exceeded: true });
  });
});
