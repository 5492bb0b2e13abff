import { afterEach, describe, expect, it, vi } from 'vitest';
import { PRINCIPAL_TOKEN_REUSE_MS, principalSigner, verifyPrincipal } from '../../../lib/principal.ts';

const SECRET = 'test-secret-of-sufficient-length-000000';

describe('principalSigner', () => {
  afterEach(() => vi.useRealTimers());

  it('reuses a principal object’s token within the reuse window, and signs afresh after it', () => {
    vi.useFakeTimers({ now: 1_000_000 });
    const sign = principalSigner(SECRET);
    const alice = { userId: 'alice', scopes: ['read'] };
    const first = sign(alice);
    expect(verifyPrincipal(first, SECRET)).toEqual({ userId: 'alice', scopes: ['read'] });
    vi.advanceTimersByTime(PRINCIPAL_TOKEN_REUSE_MS - 1);
    expect(sign(alice)).toBe(first);
    vi.advanceTimersByTime(1);
    const second = sign(alice);
    expect(second).not.toBe(first);
    // The reused token is still valid when its last reuse reaches a gateway 10 s later.
    vi.advanceTimersByTime(PRINCIPAL_TOKEN_REUSE_MS - 1);
    expect(verifyPrincipal(sign(alice), SECRET)).toBeDefined();
  });

  it('never hands one principal’s token to another', () => {
    const sign = principalSigner(SECRET);
    const [alice, bob] = [{ userId: 'alice', scopes: [] }, { userId: 'bob', scopes: ['admin'] }];
    expect(verifyPrincipal(sign(alice), SECRET)?.userId).toBe('alice');
    expect(verifyPrincipal(sign(bob), SECRET)).toEqual({ userId: 'bob', scopes: ['admin'] });
    expect(verifyPrincipal(sign(alice), SECRET)?.userId).toBe('alice');
  });

  it('signs afresh when the clock goes back', () => {
    vi.useFakeTimers({ now: 2_000_000 });
    const sign = principalSigner(SECRET);
    const alice = { userId: 'alice', scopes: [] };
    const first = sign(alice);
    vi.setSystemTime(1_990_000);
    expect(sign(alice)).not.toBe(first);
  });
});
