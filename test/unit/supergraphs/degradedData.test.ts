import { parse } from 'graphql';
import { describe, expect, it } from 'vitest';
import { degradedData } from '../../../supergraphs/degradedData.ts';
import { referenceSupergraphSdl as readSupergraphSdl } from '../../support/referenceSupergraph.ts';
import { subgraphSchema } from '../../../supergraphs/subgraphSchema.ts';
import { buildEnforcedSupergraph } from '../../../lib/authorization/enforcedSupergraph.ts';

describe('degradedData', () => {
  const orders = subgraphSchema(buildEnforcedSupergraph(readSupergraphSdl('commerce')), 'orders');

  it('answers an empty page for a connection and null for a nullable field', () => {
    const document = parse(`query { page: myOrders(first: 5) { __typename edges { node { id } } pageInfo { hasNextPage endCursor } totalCount } order(id: "o1") { id } }`);
    expect(degradedData(orders, document)).toEqual({
      page: { __typename: 'OrderConnection', edges: [], pageInfo: { hasNextPage: false, endCursor: null }, totalCount: 0 },
      order: null,
    });
  });

  it('follows fragments and gives nothing for entity fetches or mutations', () => {
    const withFragment = parse(`query { myOrders { ...Page } } fragment Page on OrderConnection { totalCount ... on OrderConnection { edges { cursor } } }`);
    expect(degradedData(orders, withFragment)).toEqual({ myOrders: { totalCount: 0, edges: [] } });
    expect(degradedData(orders, parse(`query($r: [_Any!]!) { _entities(representations: $r) { ... on Order { id } } }`))).toBeNull();
    expect(degradedData(orders, parse(`mutation { placeOrder(input: { idempotencyKey: "k", lines: [] }) { id } }`))).toBeNull();
  });
});
