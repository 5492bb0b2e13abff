import { describe, expect, it } from 'vitest';
import { randomHex } from '../../../lib/observability/randomHex.ts';

describe('randomHex', () => {
  it('gives ids of the asked length, none repeated across many refills of its pool', () => {
    const seen = new Set<string>();
    for (let i = 0; i < 5_000; i++) {
      const id = randomHex(i % 2 ? 16 : 8);
      expect(id).toMatch(i % 2 ? /^[0-9a-f]{32}$/ : /^[0-9a-f]{16}$/);
      seen.add(id);
    }
    expect(seen.size).toBe(5_000); // 5,000 ids of 8–16 bytes span ~15 refills of the 4 KiB pool
  });
});
