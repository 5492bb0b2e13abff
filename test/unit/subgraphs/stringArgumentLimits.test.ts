import { buildSchema, graphql } from 'graphql';
import { describe, expect, it } from 'vitest';
import { SUBGRAPH_NAMES } from '../../../subgraphs/subgraphNames.ts';
import { openDatabase } from '../../../subgraphs/store/openDatabase.ts';
import { documentedLengthLimit, enforceStringArgumentLimits } from '../../../subgraphs/stringArgumentLimits.ts';
import { createSubgraphServer } from '../../../subgraphs/subgraphServer.ts';

const SDL = `
  input Line {
    """At most 3 characters."""
    sku: ID!
    quantity: Int
    """Free text. At most 1,000 characters."""
    note: String
  }
  input Order { lines: [Line!]! }
  type Query {
    echo("""At most 5 characters.""" text: String, count: Int): String
    place(order: Order!): Int
  }
`;

function limited() {
  const schema = enforceStringArgumentLimits(buildSchema(SDL));
  const rootValue = { echo: ({ text }: { text: string }) => text, place: ({ order }: { order: { lines: unknown[] } }) => order.lines.length };
  return (source: string) => graphql({ schema, source, rootValue });
}

describe('enforceStringArgumentLimits', () => {
  it('reads the limit from the description, as clients read it', () => {
    expect(documentedLengthLimit('Free text. At most 1,000 characters.')).toBe(1000);
    expect(documentedLengthLimit('At most 64 characters.')).toBe(64);
    expect(documentedLengthLimit('Up to 64 characters')).toBeUndefined();
    expect(documentedLengthLimit(undefined)).toBeUndefined();
  });

  it('refuses an argument or nested input field over its limit with BAD_USER_INPUT naming it, before the resolver', async () => {
    const run = limited();
    expect(await run('{ echo(text: "12345") }')).toEqual({ data: { echo: '12345' } });
    expect(await run('{ echo(text: "😀😀😀😀😀") }')).toEqual({ data: { echo: '😀😀😀😀😀' } }); // five characters, ten UTF-16 units
    const over = await run('{ echo(text: "123456") }');
    expect(over.errors?.map((e) => [e.message, e.extensions, e.path])).toEqual([
      ['"text" is longer than 5 characters.', { code: 'BAD_USER_INPUT', argument: 'text', limit: 5 }, ['echo']],
    ]);
    const nested = await run('{ place(order: { lines: [{ sku: "abc" }, { sku: "abcd" }] }) }');
    expect(nested.errors?.[0].extensions).toEqual({ code: 'BAD_USER_INPUT', argument: 'order.lines[1].sku', limit: 3 });
    expect(await run('{ place(order: { lines: [{ sku: "abc", note: null }] }) }')).toEqual({ data: { place: 1 } });
  });

  it('stops start-up when a String or ID argument reaching a resolver documents no limit', () => {
    expect(() => enforceStringArgumentLimits(buildSchema('type Query { find(name: String): Int }'))).toThrow(
      'Query.find(name:) is an unbounded String: add "At most N characters." to its description.',
    );
    expect(() => enforceStringArgumentLimits(buildSchema('input F { id: ID } type Query { find(filter: [F]): Int }'))).toThrow(/^F\.id is an unbounded ID/);
  });

  it('finds a documented limit on every string argument of every subgraph this project ships', async () => {
    const store = await openDatabase({ path: ':memory:' });
    try {
      for (const name of SUBGRAPH_NAMES) {
        let server: ReturnType<typeof createSubgraphServer> | undefined;
        expect(() => (server = createSubgraphServer({ name, store, internalSecret: 'unit-test-secret-0123456789' }))).not.toThrow();
        await server?.close();
      }
    } finally {
      await store.close();
    }
  });
});
