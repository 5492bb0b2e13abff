import { describe, expect, it } from 'vitest';
import { measureJson } from '../../../lib/server/measureJson.ts';

describe('measureJson', () => {
  it('measures depth and the exact bytes of the JSON text', () => {
    const samples: unknown[] = [
      0,
      'plain',
      'quotes " and \\ and é and 😀 and \u0001',
      [],
      {},
      [1, -2.5, 1e21, true, false, null],
      { a: [{ b: { c: ['x'] } }], 'key "quoted"': 'v', é: 1 },
      JSON.parse('{"a":[[[[[[[[1]]]]]]]],"b":{"c":{"d":{}}}}'),
    ];
    for (const value of samples) {
      const measure = measureJson(value, { maxDepth: 100 });
      expect([value, measure.bytes, measure.exceeded]).toEqual([value, Buffer.byteLength(JSON.stringify(value)), undefined]);
    }
    expect(measureJson('x', { maxDepth: 1 }).depth).toBe(0);
    expect(measureJson([1], { maxDepth: 1 }).depth).toBe(1);
    expect(measureJson({ a: [1] }, { maxDepth: 5 }).depth).toBe(2);
  });

  it('stops at the first limit, without recursion, on a value JSON.stringify cannot handle', () => {
    const deep = JSON.parse(`${'['.repeat(100_000)}${']'.repeat(100_000)}`);
    expect(() => JSON.stringify(deep)).toThrow(RangeError);
    expect(measureJson(deep, { maxDepth: 32 })).toEqual({ depth: 33, bytes: 64, exceeded: 'depth' });
    expect(measureJson({ pad: 'x'.repeat(100) }, { maxDepth: 32, maxBytes: 50 }).exceeded).toBe('bytes');
    expect(measureJson({ pad: 'x'.repeat(10) }, { maxDepth: 32, maxBytes: 50 }).exceeded).toBeUndefined();
  });
});
