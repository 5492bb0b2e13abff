import { GraphQLError } from 'graphql';
import { createSchema, createYoga, type Plugin } from 'graphql-yoga';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { maskUnexpectedError } from '../../../lib/server/maskUnexpectedError.ts';
import { useOperationFailureAnswer } from '../../../supergraphs/useOperationFailureAnswer.ts';

/** A gateway's yoga reduced to what matters here: an executor that throws, then the plugin under test. */
function gatewayWhoseExecutorThrows(error: unknown) {
  const logged: unknown[] = [];
  const logger = pino({ level: 'error' }, { write: (line: string) => void logged.push(JSON.parse(line)) });
  const throwingExecutor: Plugin = {
    onExecute({ setExecuteFn }) {
      setExecuteFn(() => {
        throw error;
      });
    },
  };
  const yoga = createYoga({
    schema: createSchema({ typeDefs: 'type Query { node(id: ID!): String }' }),
    maskedErrors: { isDev: false, maskError: maskUnexpectedError },
    logging: false,
    plugins: [throwingExecutor, useOperationFailureAnswer({ logger })],
  });
  const ask = async () => {
    const response = await yoga.fetch('http://gateway.test/graphql', {
      method: 'POST',
      // What the router sends.
      headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json, application/json;q=0.9' },
      body: JSON.stringify({ query: '{ node(id: "a1") }' }),
    });
    return { status: response.status, body: await response.json() };
  };
  return { ask, logged };
}

describe('an operation the gateway cannot plan or execute', () => {
  it('is answered as its own masked error with HTTP 200, which the router relays instead of counting an outage', async () => {
    // The query planner's own words on the audit's corrupted-supergraph-node-id supergraph.
    const gateway = gatewayWhoseExecutorThrows(new Error("Was not able to find any options for id: This shouldn't have happened."));
    const { status, body } = await gateway.ask();
    expect(status).toBe(200);
    expect(body).toEqual({ data: null, errors: [{ message: 'Unexpected error.', extensions: { code: 'INTERNAL_SERVER_ERROR' } }] });
    expect(JSON.stringify(gateway.logged)).toContain('Was not able to find any options');
  });

  it('keeps an error of ours (a coded GraphQLError) as it was thrown', async () => {
    const gateway = gatewayWhoseExecutorThrows(new GraphQLError('Variable "$id" is too long.', { extensions: { code: 'BAD_USER_INPUT' } }));
    const { body } = await gateway.ask();
    expect(body.errors).toEqual([{ message: 'Variable "$id" is too long.', extensions: { code: 'BAD_USER_INPUT' } }]);
    expect(gateway.logged).toEqual([]);
  });
});
