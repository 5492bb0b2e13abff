import { connect } from 'node:net';

/** An HTTP/1.1 answer read off the wire. */
export interface RawAnswer {
  status: number;
  /** Lower-cased names; a repeated header keeps its last value. */
  headers: Record<string, string>;
  body: string;
}

/**
 * Sends a request as raw bytes over TCP and reads the answer: for what fetch will not send (an
 * absolute-form target, a bad or repeated Host, dot segments kept as they are, a chunked body of
 * our choosing). `head` is the request line and header lines without the final blank line;
 * `Connection: close` is added, so the answer ends with the connection.
 */
export function rawRequest(port: number, head: string, body: string | Buffer = '', timeoutMs = 10_000): Promise<RawAnswer> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    const timer = setTimeout(() => socket.destroy(new Error(`no answer within ${timeoutMs} ms to: ${head.split('\r\n')[0]}`)), timeoutMs);
    socket.on('data', (chunk) => chunks.push(chunk));
    socket.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    socket.on('close', () => {
      clearTimeout(timer);
      try {
        resolve(parseAnswer(Buffer.concat(chunks)));
      } catch (error) {
        reject(error);
      }
    });
    // No half-close after the body: Node's HTTP server aborts a request whose client sent FIN.
    socket.write(`${head}\r\nConnection: close\r\n\r\n`);
    if (body.length) socket.write(body);
  });
}

function parseAnswer(raw: Buffer): RawAnswer {
  const split = raw.indexOf('\r\n\r\n');
  if (split < 0) throw new Error(`not an HTTP answer: ${JSON.stringify(raw.toString('latin1').slice(0, 200))}`);
  const [statusLine, ...lines] = raw.subarray(0, split).toString('latin1').split('\r\n');
  const status = Number(statusLine.split(' ')[1]);
  const headers: Record<string, string> = {};
  for (const line of lines) {
    const colon = line.indexOf(':');
    headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  let body = raw.subarray(split + 4);
  if (headers['transfer-encoding']?.toLowerCase() === 'chunked') body = unchunk(body);
  return { status, headers, body: body.toString('utf8') };
}

function unchunk(data: Buffer): Buffer {
  const parts: Buffer[] = [];
  let offset = 0;
  for (;;) {
    const lineEnd = data.indexOf('\r\n', offset);
    if (lineEnd < 0) break;
    const size = parseInt(data.subarray(offset, lineEnd).toString('latin1'), 16);
    if (!size) break;
    parts.push(data.subarray(lineEnd + 2, lineEnd + 2 + size));
    offset = lineEnd + 2 + size + 2;
  }
  return Buffer.concat(parts);
}

/** A chunked request body: `data` sent in chunks of `chunkSize`, then the last chunk. */
export function chunked(data: Buffer, chunkSize = 16 * 1024): Buffer {
  const parts: Buffer[] = [];
  for (let i = 0; i < data.length; i += chunkSize) {
    const piece = data.subarray(i, i + chunkSize);
    parts.push(Buffer.from(`${piece.length.toString(16)}\r\n`), piece, Buffer.from('\r\n'));
  }
  parts.push(Buffer.from('0\r\n\r\n'));
  return Buffer.concat(parts);
}

/** Anything of a server's insides a client must never see: stack frames, file paths, exception names. */
export const INTERNALS = /node_modules|\bat (?:new )?[\w.<>]+ \(|node:internal|\/work\/|[\w-]+\.(?:ts|js|mjs|cjs):\d+|TypeError|RangeError|SyntaxError|SqliteError/;
