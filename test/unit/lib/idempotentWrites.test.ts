import { readFileSync } from 'node:fs';
import { Kind, parse, type OperationDefinitionNode } from 'graphql';
import { describe, expect, it } from 'vitest';
import { carriesIdempotencyKeys, idempotencyKeyArguments, readIdempotentWrites } from '../../../lib/upstream/idempotentWrites.ts';

// The @idempotent declarations, read from the composed commerce supergraph as the gateways and the
// router read them: which writes may go to a twin replica after they may have reached one.
const writes = readIdempotentWrites(readFileSync(new URL('../../../schema/commerce.supergraph.graphql', import.meta.url), 'utf8'));

function operationOf(text: string): OperationDefinitionNode {
  return parse(text).definitions.find((d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION)!;
}

function kindOf(text: string, variables?: Record<string, unknown>, rootType = 'Mutation') {
  const keys = idempotencyKeyArguments(operationOf(text), rootType, writes);
  return keys && carriesIdempotencyKeys(keys, variables) ? 'idempotent' : 'write';
}

describe('@idempotent declarations', () => {
  it('are read from the composed supergraph, key path and all', () => {
    expect(writes.keyOf('Mutation', 'placeOrder')).toEqual(['input', 'idempotencyKey']);
    expect(writes.keyOf('Mutation', 'chat')).toEqual(['input', 'idempotencyKey']);
    expect(writes.keyOf('Subscription', 'chatStream')).toEqual(['input', 'idempotencyKey']);
    // A replay reads only: declared without a key.
    expect(writes.keyOf('Subscription', 'chatResume')).toEqual([]);
    expect(writes.keyOf('Query', 'articles')).toBeUndefined();
  });

  it('make a write repeatable only when every root field is declared and carries its key', () => {
    const place = 'mutation($input: PlaceOrderInput!) { placeOrder(input: $input) { id } }';
    expect(kindOf(place, { input: { idempotencyKey: 'k-1', lines: [] } })).toBe('idempotent');
    expect(kindOf(place, { input: { idempotencyKey: '', lines: [] } })).toBe('write');
    expect(kindOf(place, { input: { lines: [] } })).toBe('write');
    // The key written inline, or as its own variable inside an inline object.
    expect(kindOf('mutation { placeOrder(input: { idempotencyKey: "k", lines: [] }) { id } }')).toBe('idempotent');
    expect(kindOf('mutation($k: String!) { placeOrder(input: { idempotencyKey: $k, lines: [] }) { id } }', { k: 'k-2' })).toBe('idempotent');
    // chat takes an optional key: without one, a chat turn is a plain write.
    expect(kindOf('mutation { chat(input: { prompt: "hi" }) { message { id } } }')).toBe('write');
    expect(kindOf('mutation { a: placeOrder(input: { idempotencyKey: "k", lines: [] }) { id } __typename }')).toBe('idempotent');
  });

  it('treat a subscription like a write unless declared: a replay needs no key', () => {
    expect(kindOf('subscription { chatResume(messageId: "m", after: -1) { index } }', undefined, 'Subscription')).toBe('idempotent');
    expect(kindOf('subscription { chatStream(input: { prompt: "hi" }) { index } }', undefined, 'Subscription')).toBe('write');
    expect(kindOf('subscription($i: ChatInput!) { chatStream(input: $i) { index } }', { i: { prompt: 'hi', idempotencyKey: 'turn-1' } }, 'Subscription')).toBe('idempotent');
  });
});
