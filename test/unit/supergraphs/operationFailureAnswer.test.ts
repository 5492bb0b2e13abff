import { buildSchema, GraphQLError, subscribe } from 'graphql';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { createComponentServer, type ComponentServer } from '../../../lib/server/createComponentServer.ts';
import { createGraphQLRunner } from '../../../lib/server/createGraphQLRunner.ts';

const servers: ComponentServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => server.close(100)));
});

/** A gateway's server reduced to what matters here: an executor that throws, on the shared server over HTTP. */
async function gatewayWhoseExecutorThrows(error: unknown) {
  const logged: unknown[] = [];
  const logger = pino({ level: 'error' }, { write: (line: string) => void logged.push(JSON.parse(line)) });
  const schema = buildSchema('type Query { node(id: ID!): String }');
  const server = createComponentServer({
    logger,
    maxBodyBytes: 4_096,
    readiness: async () => ({ ready: true }),
    graphql: {
      run: createGraphQLRunner({
        schema: () => schema,
        context: () => ({}),
        execute: () => {
          throw error;
        },
        subscribe,
        logger,
      }),
    },
  });
  servers.push(server);
  const { port } = await server.listen(0, '127.0.0.1');
  const ask = async () => {
    const response = await fetch(`http://127.0.0.1:${port}/graphql`, {
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
    const gateway = await gatewayWhoseExecutorThrows(new Error("Was not able to find any options for id: This shouldn't have happened."));
    const { status, body } = await gateway.ask();
    expect(status).toBe(200);
    expect(body).toEqual({ data: null, errors: [{ message: 'Unexpected error.', extensions: { code: 'INTERNAL_SERVER_ERROR' } }] });
    expect(JSON.stringify(gateway.logged)).toContain('Was not able to find any options');
  });

  it('keeps an error of ours (a coded GraphQLError) as it was thrown', async () => {
    const gateway = await gatewayWhoseExecutorThrows(new GraphQLError('Variable "$id" is too long.', { extensions: { code: 'BAD_USER_INPUT' } }));
    const { body } = await gateway.ask();
    expect(body.errors).toEqual([{ message: 'Variable "$id" is too long.', extensions: { code: 'BAD_USER_INPUT' } }]);
    expect(gateway.logged).toEqual([]);
  });
});
