import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createSchema, createYoga } from 'graphql-yoga';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { createRequestListener } from '../../../lib/server/createRequestListener.ts';
import { INTERNALS, rawRequest } from '../../support/rawHttp.ts';

const servers: Server[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => new Promise((resolve) => server.close(resolve))));
});

/** A yoga whose `/boom` path throws inside the HTTP adapter, outside any GraphQL handling. */
async function serve(): Promise<{ port: number; logged: unknown[] }> {
  const logged: unknown[] = [];
  const yoga = createYoga({
    schema: createSchema({ typeDefs: 'type Query { hello: String }', resolvers: { Query: { hello: () => 'world' } } }),
    logging: false,
    plugins: [
      {
        onRequest({ url }) {
          if (url.pathname === '/boom') throw new TypeError(`exploded at ${import.meta.url}`);
        },
      },
    ],
  });
  const logger = pino({ level: 'error' }, { write: (line: string) => void logged.push(JSON.parse(line)) });
  const server = createServer(createRequestListener(yoga, logger));
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { port: (server.address() as AddressInfo).port, logged };
}

describe('createRequestListener', () => {
  it('answers what the adapter throws with a masked JSON 500, the error only in the log', async () => {
    const { port, logged } = await serve();
    const answer = await rawRequest(port, 'GET /boom HTTP/1.1\r\nHost: localhost');
    expect(answer.status).toBe(500);
    expect(answer.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(JSON.parse(answer.body)).toEqual({ errors: [{ message: 'Unexpected error.', extensions: { code: 'INTERNAL_SERVER_ERROR' } }] });
    expect(answer.body).not.toMatch(INTERNALS);
    expect(JSON.stringify(logged)).toContain('exploded at');
  });

  it('serves an absolute-form target and refuses a bad Host before the adapter builds a URL', async () => {
    const { port, logged } = await serve();
    const ok = await rawRequest(port, `GET http://127.0.0.1:${port}/graphql?query=%7Bhello%7D HTTP/1.1\r\nHost: elsewhere\r\nAccept: application/json`);
    expect([ok.status, ok.body]).toEqual([200, '{"data":{"hello":"world"}}']);
    for (const host of ['a b', '[::1', 'x:99999']) {
      const refused = await rawRequest(port, `GET /graphql?query=%7Bhello%7D HTTP/1.1\r\nHost: ${host}`);
      expect([host, refused.status, JSON.parse(refused.body).errors[0].extensions.code]).toEqual([host, 400, 'BAD_REQUEST']);
    }
    expect(logged).toEqual([]); // a client's mistake is not the server's error
  });
});
