import { createServer as createHttp1Server, type Server } from 'node:http';
import { createServer as createHttp2Server, type Http2Server, type ServerHttp2Stream } from 'node:http2';
import { createServer as createTcpServer, type AddressInfo, type Socket } from 'node:net';
import { Agent } from 'undici';
import { afterEach, describe, expect, it } from 'vitest';
import { multiplexedTransport } from '../../../lib/upstream/multiplexedTransport.ts';
import { ExchangeError } from '../../../lib/upstream/sendRequest.ts';
import { STREAM_DISPATCHER, http1Transport, type UpstreamTransport } from '../../../lib/upstream/upstreamTransport.ts';
import { freePort } from '../../support/freePort.ts';

// The transport against real servers on loopback: an HTTP/2 one (prior knowledge), and a plain
// HTTP/1.1 one it must fall back to.
const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function transport(options: Partial<Parameters<typeof multiplexedTransport>[0]> = {}): UpstreamTransport {
  const dispatcher = new Agent({ keepAliveTimeout: 10_000 });
  const created = multiplexedTransport({ http1: http1Transport(dispatcher, STREAM_DISPATCHER), ...options });
  cleanups.push(async () => {
    await created.close();
    await dispatcher.close();
  });
  return created;
}

async function http2Server(onStream: (stream: ServerHttp2Stream, body: string) => void): Promise<{ url: string; sessions: () => number }> {
  let sessions = 0;
  const server: Http2Server = createHttp2Server({ settings: { maxConcurrentStreams: 100_000 } });
  server.on('session', () => sessions++);
  server.on('stream', (stream) => {
    let body = '';
    stream.setEncoding('utf8');
    stream.on('data', (chunk: string) => (body += chunk));
    stream.on('end', () => onStream(stream, body));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanups.push(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/graphql`, sessions: () => sessions };
}

const post = (body: string, signal = new AbortController().signal) => ({ method: 'POST' as const, headers: { 'content-type': 'application/json' }, body, signal });

describe('multiplexedTransport', () => {
  it('carries many concurrent calls on one connection per instance, over HTTP/2', async () => {
    const upstream = await http2Server((stream, body) => {
      stream.respond({ ':status': 200, 'content-type': 'application/json' });
      stream.end(`{"echo":${body}}`);
    });
    const t = transport({ streamsPerSession: 1_000 });
    const answers = await Promise.all(Array.from({ length: 300 }, (_, i) => t.send(upstream.url, post(String(i)))));
    expect(answers.map((a) => [a.statusCode, a.body])).toEqual(Array.from({ length: 300 }, (_, i) => [200, `{"echo":${i}}`]));
    expect(answers[0].headers['content-type']).toBe('application/json');
    expect(upstream.sessions()).toBe(1);
  });

  it('opens another connection only when every one carries streamsPerSession, up to the most', async () => {
    const held: ServerHttp2Stream[] = [];
    const upstream = await http2Server((stream) => held.push(stream));
    const t = transport({ streamsPerSession: 10, maxSessionsPerOrigin: 3 });
    const pending = Array.from({ length: 50 }, (_, i) => t.send(upstream.url, post(String(i))));
    await expect.poll(() => held.length).toBe(50);
    expect(upstream.sessions()).toBe(3);
    for (const stream of held) {
      stream.respond({ ':status': 200 });
      stream.end('{}');
    }
    await Promise.all(pending);
  });

  it('falls back to HTTP/1.1 for an instance that does not speak HTTP/2, from the first call', async () => {
    let requests = 0;
    const server: Server = createHttp1Server((request, response) => {
      requests++;
      request.resume();
      request.on('end', () => response.end('{"data":{}}'));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    cleanups.push(() => new Promise<void>((resolve) => server.close(() => resolve())));
    server.on('clientError', (_error, socket) => socket.destroy());
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/graphql`;
    const t = transport();
    for (let i = 0; i < 3; i++) expect((await t.send(url, post('{}'))).body).toBe('{"data":{}}');
    const opened = await t.open(url, post('{}'));
    expect([opened.statusCode, await opened.text()]).toEqual([200, '{"data":{}}']);
    expect(requests).toBe(4);
  });

  it('streams an answer as it arrives, and ends it upstream when the caller aborts', async () => {
    let upstreamClosed = false;
    const upstream = await http2Server((stream) => {
      stream.respond({ ':status': 200, 'content-type': 'text/event-stream' });
      stream.write('event: next\ndata: 1\n\n');
      stream.on('close', () => (upstreamClosed = true));
    });
    const t = transport();
    const abort = new AbortController();
    const opened = await t.open(upstream.url, post('{}', abort.signal));
    expect([opened.statusCode, opened.headers['content-type']]).toEqual([200, 'text/event-stream']);
    const iterator = opened.body[Symbol.asyncIterator]();
    expect(String((await iterator.next()).value)).toBe('event: next\ndata: 1\n\n');
    abort.abort(new DOMException('client left', 'AbortError'));
    await expect.poll(() => upstreamClosed).toBe(true);
  });

  it('says a call to an instance that refuses connections never reached it', async () => {
    const url = `http://127.0.0.1:${await freePort()}/graphql`;
    const failure = await transport().send(url, post('{}')).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(ExchangeError);
    expect((failure as ExchangeError).requestSent).toBe(false);
  });

  it('lets go of a call still waiting for its connection the moment its replica goes away, unsent', async () => {
    // A listener that takes the connection and never says a word: the HTTP/2 settings never come.
    const sockets: Socket[] = [];
    const silent = createTcpServer((socket) => void sockets.push(socket));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    cleanups.push(() => new Promise<void>((resolve) => (sockets.forEach((s) => s.destroy()), silent.close(() => resolve()))));
    const outage = new AbortController();
    const started = performance.now();
    const pending = transport({ connectTimeoutMs: 10_000 })
      .send(`http://127.0.0.1:${(silent.address() as AddressInfo).port}/graphql`, { ...post('{}'), unsentSignal: outage.signal })
      .catch((error: unknown) => error);
    setTimeout(() => outage.abort(new Error('replica ejected')), 50);
    const failure = await pending;
    expect(failure).toBeInstanceOf(ExchangeError);
    expect([(failure as ExchangeError).requestSent, (failure as ExchangeError).message]).toEqual([false, 'replica ejected']);
    expect(performance.now() - started).toBeLessThan(2_000); // not the connection's 10 s
  });
});
