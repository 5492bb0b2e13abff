import { GraphQLError } from 'graphql';
import { describe, expect, it } from 'vitest';
import { mergeResults } from '../../../router/mergeResults.ts';
import { relayGatewayError } from '../../../router/relayGatewayError.ts';

const fields = (...keys: string[]) => keys.map((responseKey) => ({ responseKey, fieldName: responseKey }));
const json = (value: unknown) => JSON.parse(JSON.stringify(value));

describe('mergeResults', () => {
  it('merges parts into the client field order, whatever order the parts come in', () => {
    const result = mergeResults({
      rootFields: fields('a', 'me', 'b', '__typename'),
      parts: [
        { supergraph: 'commerce', responseKeys: ['a', 'b'], kind: 'answered', result: { data: { b: 2, a: 1 } } },
        { supergraph: 'identity', responseKeys: ['me'], kind: 'answered', result: { data: { me: { id: 'u1' } } } },
      ],
      local: { responseKeys: ['__typename'], result: { data: { __typename: 'Query' } } },
    });
    expect(Object.keys(result.data!)).toEqual(['a', 'me', 'b', '__typename']);
    expect(result.data).toEqual({ a: 1, me: { id: 'u1' }, b: 2, __typename: 'Query' });
    expect(result.errors).toBeUndefined();
  });

  it('nulls only the keys of a failed part, one SUPERGRAPH_UNAVAILABLE error per key', () => {
    const result = mergeResults({
      rootFields: fields('me', 'articles', 'models'),
      parts: [
        { supergraph: 'identity', responseKeys: ['me'], kind: 'answered', result: { data: { me: { id: 'u1' } } } },
        { supergraph: 'commerce', responseKeys: ['articles', 'models'], kind: 'failed', failure: { reason: 'network', attempts: 2 } },
      ],
    });
    expect(result.data).toEqual({ me: { id: 'u1' }, articles: null, models: null });
    expect(json(result.errors)).toEqual([
      { message: 'The commerce supergraph is unavailable.', path: ['articles'], extensions: { code: 'SUPERGRAPH_UNAVAILABLE', supergraph: 'commerce', reason: 'network', attempts: 2 } },
      { message: 'The commerce supergraph is unavailable.', path: ['models'], extensions: { code: 'SUPERGRAPH_UNAVAILABLE', supergraph: 'commerce', reason: 'network', attempts: 2 } },
    ]);
  });

  it('reports a timeout as GATEWAY_TIMEOUT', () => {
    const result = mergeResults({
      rootFields: fields('me'),
      parts: [{ supergraph: 'identity', responseKeys: ['me'], kind: 'failed', failure: { reason: 'timeout', attempts: 1 } }],
    });
    expect(result.errors![0].extensions).toEqual({ code: 'GATEWAY_TIMEOUT', supergraph: 'identity', reason: 'timeout', attempts: 1 });
  });

  it('keeps the errors of a part that answered data: null and nulls its keys only', () => {
    const result = mergeResults({
      rootFields: fields('models', 'me'),
      parts: [
        { supergraph: 'commerce', responseKeys: ['models'], kind: 'answered', result: { data: { models: [] } } },
        {
          supergraph: 'identity',
          responseKeys: ['me'],
          kind: 'answered',
          result: { data: null, errors: [{ message: 'The users service is unavailable.', path: ['me', 'name'], extensions: { code: 'DOWNSTREAM_SERVICE_ERROR', serviceName: 'users' } }] },
        },
      ],
    });
    expect(result.data).toEqual({ models: [], me: null });
    expect(json(result.errors)).toEqual([
      { message: 'The users service is unavailable.', path: ['me', 'name'], extensions: { code: 'DOWNSTREAM_SERVICE_ERROR', serviceName: 'users', supergraph: 'identity' } },
    ]);
  });

  it('appends request-level errors and treats a key missing from a part as null', () => {
    const authError = new GraphQLError('auth unavailable', { extensions: { code: 'SUPERGRAPH_UNAVAILABLE' } });
    const result = mergeResults({
      rootFields: fields('models'),
      parts: [{ supergraph: 'commerce', responseKeys: ['models'], kind: 'answered', result: { data: {} } }],
      extraErrors: [authError],
    });
    expect(result.data).toEqual({ models: null });
    expect(result.errors).toEqual([authError]);
  });
});

describe('relayGatewayError', () => {
  it('relays path and extensions of a known code, without stack traces or internal URLs', () => {
    const error = relayGatewayError(
      {
        message: 'request to http://127.0.0.1:4111/graphql failed',
        path: ['me'],
        locations: [{ line: 1, column: 3 }],
        extensions: {
          code: 'DOWNSTREAM_SERVICE_ERROR',
          serviceName: 'users',
          stacktrace: ['Error: boom', '    at x (/srv/a.ts:1:1)'],
          exception: { stacktrace: ['x'] },
          http: { status: 500 },
          detail: { url: 'http://10.0.0.7:4111/graphql' },
        },
      },
      { supergraph: 'identity' },
    );
    expect(json(error)).toEqual({
      message: 'request to [internal] failed',
      path: ['me'],
      extensions: { code: 'DOWNSTREAM_SERVICE_ERROR', serviceName: 'users', supergraph: 'identity', detail: { url: '[internal]' } },
    });
  });

  it('removes bare addresses and stack traces from relayed messages', () => {
    const error = relayGatewayError(
      { message: 'connect ECONNREFUSED 127.0.0.1:4111 and localhost:4002\n    at TCPConnectWrap.afterConnect (node:net:1595:16)', extensions: { code: 'DOWNSTREAM_SERVICE_ERROR' } },
      { supergraph: 'identity' },
    );
    expect(error.message).toBe('connect ECONNREFUSED [internal] and [internal]');
  });

  it('masks an error with an unknown or missing code', () => {
    for (const extensions of [{ code: 'SOMETHING_INTERNAL', secret: 'x' }, undefined]) {
      const error = relayGatewayError({ message: 'SQLITE_BUSY at /srv/db.ts:12', path: ['order'], extensions }, { supergraph: 'commerce' });
      expect(json(error)).toEqual({ message: 'Unexpected error.', path: ['order'], extensions: { code: 'INTERNAL_SERVER_ERROR', supergraph: 'commerce' } });
    }
  });

  it('lets validation-type codes through', () => {
    for (const code of ['GRAPHQL_VALIDATION_FAILED', 'BAD_USER_INPUT', 'GRAPHQL_PARSE_FAILED', 'UNAUTHENTICATED']) {
      const error = relayGatewayError({ message: `it is ${code}`, extensions: { code } }, { supergraph: 'commerce' });
      expect(error.message).toBe(`it is ${code}`);
      expect(error.extensions.code).toBe(code);
    }
  });

  it('keeps locations only when the gateway saw the client text', () => {
    const wire = { message: 'bad', locations: [{ line: 2, column: 5 }], extensions: { code: 'BAD_USER_INPUT' } };
    expect(json(relayGatewayError(wire, { supergraph: 'commerce', source: '{\n    models { id } }' })).locations).toEqual([{ line: 2, column: 5 }]);
    expect(json(relayGatewayError(wire, { supergraph: 'commerce' })).locations).toBeUndefined();
  });
});
