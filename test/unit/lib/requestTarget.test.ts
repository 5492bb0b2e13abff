import { describe, expect, it } from 'vitest';
import { readRequestTarget } from '../../../lib/server/requestTarget.ts';

describe('readRequestTarget', () => {
  it.each([
    ['/graphql?query=x', ['localhost:4000'], { ok: true, path: '/graphql?query=x', host: 'localhost:4000' }],
    ['/graphql', [], { ok: true, path: '/graphql', host: undefined }], // HTTP/1.0 needs no Host
    ['/graphql', ['[::1]:4000'], { ok: true, path: '/graphql', host: '[::1]:4000' }],
    ['//graphql', ['localhost'], { ok: true, path: '//graphql', host: 'localhost' }],
    // Absolute-form: the target's authority wins over any Host header (RFC 9112 §3.2.2).
    ['http://127.0.0.1:4000/graphql?x=1', ['evil.example'], { ok: true, path: '/graphql?x=1', host: '127.0.0.1:4000' }],
    ['HTTPS://Router.Example/graphql', [], { ok: true, path: '/graphql', host: 'router.example' }],
    ['http://localhost/a/../internal/state', [], { ok: true, path: '/internal/state', host: 'localhost' }],
  ])('accepts %s with Host %j', (target, hosts, expected) => {
    expect(readRequestTarget(target, hosts)).toEqual(expected);
  });

  it.each([
    ['/graphql', ['a b']],
    ['/graphql', ['[::1']],
    ['/graphql', ['x:99999']],
    ['/graphql', ['']],
    ['/graphql', ['999.1.1.1']],
    ['/graphql', ['evil.example/graphql?']],
    ['/graphql', ['user@host']],
    ['/graphql', ['a', 'b']],
    ['http://user:pw@localhost/graphql', []],
    ['http://[::1/graphql', []],
    ['http://x:99999/graphql', []],
    ['*', ['localhost']],
    ['localhost:4000', ['localhost']],
    ['graphql', ['localhost']],
  ])('refuses %s with Host %j', (target, hosts) => {
    expect(readRequestTarget(target, hosts)).toMatchObject({ ok: false, message: expect.any(String) });
  });
});
