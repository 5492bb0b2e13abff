import { describe, expect, it } from 'vitest';
import { edgeRouter, ok } from './edgeRouter.ts';

// The router enforces @authenticated and @requiresScopes from the composed supergraphs (schema/*.graphql)
// before any gateway call: what the caller may not see is taken out of what the gateway is sent,
// answered null with UNAUTHORIZED_FIELD_OR_TYPE on its path, and the rest is served.
describe('field-level authorization at the router', () => {
  it('takes an anonymous caller’s orders out of the commerce call and serves the public rest', async () => {
    const edge = edgeRouter({ commerce: () => ok({ models: [{ id: 'm1' }] }) });
    const answer = await edge.post({ query: '{ models { id } myOrders { totalCount } }' });
    expect(answer.status).toBe(200);
    expect(answer.body.data).toEqual({ models: [{ id: 'm1' }], myOrders: null });
    expect(answer.body.errors).toEqual([expect.objectContaining({ path: ['myOrders'], extensions: { code: 'UNAUTHORIZED_FIELD_OR_TYPE' } })]);
    // What the gateway was sent never asked for the orders.
    expect(edge.calls).toHaveLength(1);
    expect(edge.calls[0].query).not.toContain('myOrders');
    expect(edge.calls[0].query).toContain('models');
  });

  it('answers an operation with nothing left for the caller without calling any gateway', async () => {
    const edge = edgeRouter();
    const answer = await edge.post({ query: '{ myOrders { totalCount } order(id: "o1") { id } }' });
    expect(answer.status).toBe(200);
    expect(answer.body.data).toEqual({ myOrders: null, order: null });
    expect(answer.body.errors.map((e: { path: string[] }) => e.path)).toEqual([['myOrders'], ['order']]);
    expect(edge.calls).toHaveLength(0);
  });

  it('refuses placeOrder to a key without the orders:write scope, and lets a key with it through', async () => {
    const edge = edgeRouter({ commerce: (request) => ok(request.query.includes('placeOrder') ? { placeOrder: { id: 'o1' } } : { models: [] }) });
    const mutation = { query: 'mutation { placeOrder(input: { idempotencyKey: "k1", lines: [{ articleId: "a1", quantity: 1 }] }) { id } }' };

    const refused = await edge.post(mutation, { authorization: 'Bearer pro-key-00001' }); // a key with no scopes
    expect(refused.body).toEqual({
      data: { placeOrder: null },
      errors: [expect.objectContaining({ message: 'Unauthorized field or type', path: ['placeOrder'], extensions: { code: 'UNAUTHORIZED_FIELD_OR_TYPE' } })],
    });
    expect(edge.calls).toHaveLength(0); // the write never left the router

    const placed = await edge.post(mutation, { authorization: 'Bearer writer-key-01' });
    expect(placed.body).toEqual({ data: { placeOrder: { id: 'o1' } } });
    expect(edge.calls).toHaveLength(1);
    expect(edge.calls[0].query).toContain('placeOrder');
  });

  it('nulls a protected field deep in an answer, up to its nearest nullable parent', async () => {
    // User.quota (nullable) and User.apiKeys (non-null) are @authenticated; the scripted gateway answers what it is asked.
    const edge = edgeRouter({ identity: () => ok({ me: { id: 'u1', name: 'Ada' } }) });
    const answer = await edge.post({ query: '{ me { id name quota { remaining } } }' });
    expect(answer.body.data).toEqual({ me: { id: 'u1', name: 'Ada', quota: null } });
    expect(answer.body.errors).toEqual([expect.objectContaining({ path: ['me', 'quota'], extensions: { code: 'UNAUTHORIZED_FIELD_OR_TYPE' } })]);
    expect(edge.calls[0].query).not.toContain('quota');

    const keys = await edge.post({ query: '{ me { id apiKeys { id } } }' });
    expect(keys.body.data).toEqual({ me: null }); // a null for [ApiKey!]! goes up to `me`
    expect(keys.body.errors).toEqual([expect.objectContaining({ path: ['me', 'apiKeys'], extensions: { code: 'UNAUTHORIZED_FIELD_OR_TYPE' } })]);
  });

  it('answers a subscription the caller may not open with an error, and opens none', async () => {
    const edge = edgeRouter();
    const answer = await edge.post({ query: 'subscription { chatStream(input: { prompt: "hi" }) { index } }' }, { authorization: 'Bearer pro-key-00001' });
    expect(answer.body).toEqual({
      data: null, // chatStream is non-null
      errors: [expect.objectContaining({ path: ['chatStream'], extensions: { code: 'UNAUTHORIZED_FIELD_OR_TYPE' } })],
    });
    expect(edge.calls).toHaveLength(0);
  });
});
