import { buildSchema, execute, subscribe } from 'graphql';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { createComponentServer, type ComponentServer } from '../../../lib/server/createComponentServer.ts';
import { createGraphQLRunner } from '../../../lib/server/createGraphQLRunner.ts';
import { INTERNALS, rawRequest } from '../../support/rawHttp.ts';

// The shared server in-process, on a free loopback port where the wire matters (request lines, Host).
const servers: ComponentServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => server.close(100)));
});

const schema = buildSchema('type Query { hello: String }');
const rootValue = { hello: () => 'world' };

/** A server whose `/boom` path throws outside any GraphQL handling. */
function serve(): { server: ComponentServer; logged: unknown[] } {
  const logged: unknown[] = [];
  const logger = pino({ level: 'error' }, { write: (line: string) => void logged.push(JSON.parse(line)) });
  const server = createComponentServer({
    logger,
    maxBodyBytes: 4_096,
    readiness: async () => ({ ready: true }),
    routes: [
      (_exchange, path) => {
        if (path === '/boom') throw new TypeError(`exploded at ${import.meta.url}`);
        return false;
      },
    ],
    graphql: {
      run: createGraphQLRunner({ schema: () => schema, context: () => ({}), execute: (args) => execute({ ...args, rootValue }), subscribe, logger }),
    },
  });
  servers.push(server);
  return { server, logged };
}

describe('the component server', () => {
  it('answers what a stage throws with a masked JSON 500, the error only in the log', async () => {
    const { server, logged } = serve();
    const { port } = await server.listen(0, '127.0.0.1');
    const answer = await rawRequest(port, 'GET /boom HTTP/1.1\r\nHost: localhost');
    expect(answer.status).toBe(500);
    expect(answer.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(JSON.parse(answer.body)).toEqual({ errors: [{ message: 'Unexpected error.', extensions: { code: 'INTERNAL_SERVER_ERROR' } }] });
    expect(answer.body).not.toMatch(INTERNALS);
    expect(JSON.stringify(logged)).toContain('exploded at');
  });

  it('serves an absolute-form target and refuses a bad Host before anything builds a URL', async () => {
    const { server, logged } = serve();
    const { port } = await server.listen(0, '127.0.0.1');
    const ok = await rawRequest(port, `GET http://127.0.0.1:${port}/graphql?query=%7Bhello%7D HTTP/1.1\r\nHost: elsewhere\r\nAccept: application/json`);
    expect([ok.status, ok.body]).toEqual([200, '{"data":{"hello":"world"}}']);
    for (const host of ['a b', '[::1', 'x:99999']) {
      const refused = await rawRequest(port, `GET /graphql?query=%7Bhello%7D HTTP/1.1\r\nHost: ${host}`);
      expect([host, refused.status, JSON.parse(refused.body).errors[0].extensions.code]).toEqual([host, 400, 'BAD_REQUEST']);
    }
    expect(logged).toEqual([]); // a client's mistake is not the server's error
  });

  it('speaks HTTP/2 with prior knowledge on the same port as HTTP/1.1', async () => {
    const { connect } = await import('node:http2');
    const { server } = serve();
    const { port } = await server.listen(0, '127.0.0.1');
    const session = connect(`http://127.0.0.1:${port}`);
    try {
      const body = await new Promise<string>((resolve, reject) => {
        const stream = session.request({ ':method': 'POST', ':path': '/graphql', 'content-type': 'application/json', accept: 'application/json' });
        let text = '';
        stream.setEncoding('utf8');
        stream.on('data', (chunk: string) => (text += chunk));
        stream.on('end', () => resolve(text));
        stream.on('error', reject);
        stream.end(JSON.stringify({ query: '{ hello }' }));
      });
      expect(body).toBe('{"data":{"hello":"world"}}');
    } finally {
      session.close();
    }
    expect((await rawRequest(port, 'GET /healthz HTTP/1.1\r\nHost: localhost')).status).toBe(200);
  });
});
