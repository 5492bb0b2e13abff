import { createServer as createHttp1Server, type IncomingMessage } from 'node:http';
import { createServer as createHttp2Server, type Http2Session, type ServerHttp2Stream } from 'node:http2';
import { createServer as createTcpServer, type AddressInfo, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { Http1Exchange, Http2Exchange, type ServerExchange } from './serverExchange.ts';

export interface ProtocolListenerOptions {
  /** Every request, over either protocol. */
  onExchange(exchange: ServerExchange): void;
  /** An HTTP/1.1 Upgrade (WebSocket); without it upgrades are refused. @default none */
  onUpgrade?(request: IncomingMessage, socket: Duplex, head: Buffer): void;
  /** How long an idle HTTP/1.1 connection stays open: longer than the usual 60 s of proxies and clients, so they close first. @default 65000 */
  keepAliveTimeoutMs?: number;
  /** Streams one HTTP/2 connection may carry at once: a router holds every client's stream to a gateway on a few. @default 100000 */
  maxConcurrentStreams?: number;
}

export interface ProtocolListener {
  /** Starts listening; `port: 0` picks a free port. */
  listen(port: number, host: string): Promise<{ port: number; url: string }>;
  /** Stops accepting, lets requests in flight finish for `graceMs`, then cuts what is left; idempotent. */
  close(graceMs: number): Promise<void>;
}

/** What an HTTP/2 client sends first (RFC 9113 §3.4); no HTTP/1.1 request line starts like it. */
const PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n');

/** Per HTTP/2 stream and connection, what a peer may send before it waits for us to read: big enough for an 88 KB answer in one go. */
const STREAM_WINDOW_BYTES = 1 << 20;
const CONNECTION_WINDOW_BYTES = 32 << 20;
/** nghttp2's memory for one connection: its default 10 MB ends a connection that carries thousands of open streams. */
const SESSION_MEMORY_MB = 512;

/**
 * HTTP/1.1 and HTTP/2 without TLS on one port, told apart by the first bytes of each connection: a
 * client with prior knowledge (the router, a gateway) opens HTTP/2 and multiplexes every request and
 * stream on a few connections; browsers, curl and load balancers speak HTTP/1.1 as before. The socket
 * goes to Node's own HTTP/1.1 or HTTP/2 server with the bytes it sent put back, as httpolyglot does.
 */
export function createProtocolListener(options: ProtocolListenerOptions): ProtocolListener {
  const { onExchange, onUpgrade, keepAliveTimeoutMs = 65_000, maxConcurrentStreams = 100_000 } = options;
  const http1 = createHttp1Server({ keepAliveTimeout: keepAliveTimeoutMs }, (request, response) => onExchange(new Http1Exchange(request, response)));
  // Must exceed keepAliveTimeout, or Node may drop a socket while a request header is arriving.
  http1.headersTimeout = keepAliveTimeoutMs + 1_000;
  if (onUpgrade) http1.on('upgrade', onUpgrade);
  else http1.on('upgrade', (_request, socket: Duplex) => socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Length: 0\r\n\r\n'));

  const http2 = createHttp2Server({
    settings: { maxConcurrentStreams, initialWindowSize: STREAM_WINDOW_BYTES, enablePush: false },
    maxSessionMemory: SESSION_MEMORY_MB,
  });
  const sessions = new Set<Http2Session>();
  http2.on('session', (session: Http2Session) => {
    sessions.add(session);
    session.once('close', () => sessions.delete(session));
    session.on('error', () => session.destroy());
    session.once('connect', () => session.setLocalWindowSize(CONNECTION_WINDOW_BYTES));
  });
  http2.on('stream', (stream: ServerHttp2Stream, headers) => {
    stream.on('error', () => stream.destroy());
    onExchange(new Http2Exchange(stream, headers as never));
  });

  // No Nagle: an answer's headers and body go out at once, not after the peer's delayed ACK (40 ms).
  const tcp = createTcpServer({ noDelay: true }, (socket) => sniff(socket, undefined));
  function sniff(socket: Socket, seen: Buffer | undefined): void {
    const chunk = socket.read() as Buffer | null;
    if (chunk === null) {
      socket.once('readable', () => sniff(socket, seen));
      return;
    }
    const data = seen ? Buffer.concat([seen, chunk]) : chunk;
    const length = Math.min(data.length, PREFACE.length);
    const maybeHttp2 = data.subarray(0, length).equals(PREFACE.subarray(0, length));
    if (maybeHttp2 && data.length < PREFACE.length) {
      socket.once('readable', () => sniff(socket, data));
      return;
    }
    socket.unshift(data);
    (maybeHttp2 ? http2 : http1).emit('connection', socket);
  }
  tcp.on('connection', (socket) => socket.on('error', () => socket.destroy()));

  let closing: Promise<void> | undefined;
  return {
    async listen(port, host) {
      await new Promise<void>((resolve, reject) => {
        tcp.once('error', reject);
        tcp.listen(port, host, () => {
          tcp.off('error', reject);
          resolve();
        });
      });
      // Node's HTTP/1.1 server starts its header and request timeouts when it hears it is listening.
      http1.emit('listening');
      const bound = (tcp.address() as AddressInfo).port;
      return { port: bound, url: `http://${host.includes(':') ? `[${host}]` : host}:${bound}/graphql` };
    },
    close(graceMs) {
      closing ??= new Promise<void>((resolve) => {
        if (!tcp.listening) return resolve();
        // Resolves once every connection it accepted is gone, whichever server served it.
        tcp.close(() => resolve());
        // No new requests on HTTP/2 connections; the streams in flight finish.
        for (const session of sessions) session.close();
        const sweep = setInterval(() => http1.closeIdleConnections(), 50);
        const cut = setTimeout(() => {
          http1.closeAllConnections();
          for (const session of sessions) session.destroy();
        }, graceMs);
        sweep.unref();
        cut.unref();
        http1.closeIdleConnections();
        tcp.once('close', () => {
          clearInterval(sweep);
          clearTimeout(cut);
          // Stops the HTTP/1.1 server's timeout checks; it never listened itself, so it reports that.
          http1.close(() => {});
        });
      });
      return closing;
    },
  };
}
