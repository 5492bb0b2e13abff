import { promisify } from 'node:util';
import { brotliDecompress, gunzip, inflate, inflateRaw, type InputType, type ZlibOptions } from 'node:zlib';
import type { GraphQLError } from 'graphql';
import { badRequest, requestTooLarge, unsupportedContentEncoding } from '../errors.ts';
import type { ServerExchange } from './serverExchange.ts';

type Decoder = (input: InputType, options: ZlibOptions) => Promise<Buffer>;

const gunzipAsync = promisify(gunzip) as Decoder;
const inflateAsync = promisify(inflate) as Decoder;
const inflateRawAsync = promisify(inflateRaw) as Decoder;
const brotliAsync = promisify(brotliDecompress) as Decoder;

/** HTTP `deflate` is the zlib format (RFC 9110 §8.4.1.2); some clients send raw deflate, as browsers tolerate. */
const inflateEither: Decoder = async (input, options) => {
  try {
    return await inflateAsync(input, options);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'Z_DATA_ERROR') return inflateRawAsync(input, options);
    throw error;
  }
};

const DECODERS: Record<string, Decoder> = { gzip: gunzipAsync, 'x-gzip': gunzipAsync, deflate: inflateEither, br: brotliAsync };
const SUPPORTED = ['gzip', 'deflate', 'br'];
/** Codings stacked on one body; more is no client's honest doing. */
const MAX_CODINGS = 2;
/** Only a single non-negative integer is a Content-Length (comma-joined values are a smuggling attempt). */
const CONTENT_LENGTH = /^\d+$/;

/** The body, decoded, or the refusal to answer with. */
export type BodyRead = { ok: true; body: Buffer } | { ok: false; error: GraphQLError };

/**
 * Reads a request body of at most `maxBytes`, as sent and once decoded alike, and undoes its
 * `Content-Encoding` (gzip, deflate, br, two stacked at most):
 * - a Content-Length over the limit is refused (413) before a byte is read; a chunked body is cut
 *   off as soon as it passes it;
 * - decoding stops at `maxBytes` of output (zlib's `maxOutputLength`), so a few kilobytes that
 *   inflate to gigabytes cost at most `maxBytes` of memory and answer 413;
 * - an unknown coding answers 415 with `Accept-Encoding`; a body that does not decode, 400.
 * None of the refusals quotes the body.
 */
export async function readRequestBody(exchange: ServerExchange, maxBytes: number): Promise<BodyRead> {
  const declared = exchange.header('content-length');
  if (declared !== undefined) {
    if (!CONTENT_LENGTH.test(declared)) return refuse(badRequest('The Content-Length header is invalid.'));
    if (Number(declared) > maxBytes) return refuse(requestTooLarge(maxBytes));
  }
  const header = exchange.header('content-encoding');
  const codings = header ? header.split(',').map((c) => c.trim().toLowerCase()).filter((c) => c && c !== 'identity') : [];
  if (codings.length > MAX_CODINGS || codings.some((c) => !DECODERS[c])) return refuse(unsupportedContentEncoding(SUPPORTED));

  let body = await readAtMost(exchange, maxBytes);
  if (body === undefined) return refuse(requestTooLarge(maxBytes));
  try {
    // Codings are listed in the order they were applied: undo them last to first.
    for (const coding of codings.reverse()) body = await DECODERS[coding](body, { maxOutputLength: maxBytes });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') return refuse(requestTooLarge(maxBytes, true));
    return refuse(badRequest('The request body does not decode as its Content-Encoding says.'));
  }
  return { ok: true, body };
}

function refuse(error: GraphQLError): BodyRead {
  return { ok: false, error };
}

/** The whole body, or undefined as soon as it passes `limit`; what is left unread is discarded with the request. */
function readAtMost(exchange: ServerExchange, limit: number): Promise<Buffer | undefined> {
  const stream = exchange.body;
  return new Promise((resolve, reject) => {
    let first: Buffer | undefined;
    let chunks: Buffer[] | undefined;
    let length = 0;
    const onData = (chunk: Buffer) => {
      length += chunk.length;
      if (length > limit) {
        finish();
        stream.resume(); // the rest is read and dropped, so a keep-alive connection stays usable
        resolve(undefined);
        return;
      }
      if (!first) first = chunk;
      else (chunks ??= [first]).push(chunk);
    };
    const onEnd = () => {
      finish();
      resolve(chunks ? Buffer.concat(chunks, length) : (first ?? Buffer.alloc(0)));
    };
    const onError = (error: Error) => {
      finish();
      reject(error);
    };
    const finish = () => {
      stream.off('data', onData);
      stream.off('end', onEnd);
      stream.off('error', onError);
      stream.off('close', onClose);
    };
    // A client that leaves half-way ends the read like an error: nothing will be answered.
    const onClose = () => onError(new Error('the client closed the request before its body ended'));
    stream.on('data', onData);
    stream.once('end', onEnd);
    stream.once('error', onError);
    stream.once('close', onClose);
  });
}
