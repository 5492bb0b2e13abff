import { promisify } from 'node:util';
import { brotliDecompress, gunzip, inflate, inflateRaw, type InputType, type ZlibOptions } from 'node:zlib';
import type { GraphQLError } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import { badRequest, requestTooLarge, unsupportedContentEncoding } from '../errors.ts';
import { refusalResponse } from './refusalResponse.ts';
import { BodyTooLarge, readBodyAtMost } from './readBodyAtMost.ts';

export interface RequestDecompressionOptions {
  /** Largest body accepted, as sent and once decoded alike (a zip bomb stops here). */
  maxBytes: number;
}

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

/**
 * Decodes gzip, deflate and br request bodies (`Content-Encoding`), which yoga would read as JSON
 * and refuse, echoing the raw bytes. The compressed body is read up to `maxBytes`, and decoding
 * stops at `maxBytes` of output (zlib's `maxOutputLength`), so a few kilobytes that inflate to
 * gigabytes cost at most `maxBytes` of memory and answer 413; an unknown coding answers 415 with
 * `Accept-Encoding`; a body that does not decode answers 400. None of them quotes the body.
 */
export function useRequestDecompression({ maxBytes }: RequestDecompressionOptions): Plugin {
  return {
    async onRequest({ request, setRequest, endResponse, fetchAPI }) {
      const header = request.headers.get('content-encoding');
      if (!header || !request.body) return;
      const codings = header.split(',').map((c) => c.trim().toLowerCase()).filter((c) => c && c !== 'identity');
      if (!codings.length) return;
      const refuse = (error: GraphQLError) => endResponse(refusalResponse(error, fetchAPI));
      if (codings.length > MAX_CODINGS || codings.some((c) => !DECODERS[c])) return refuse(unsupportedContentEncoding(SUPPORTED));
      const declared = Number(request.headers.get('content-length'));
      if (declared > maxBytes) return refuse(requestTooLarge(maxBytes));

      let body: Buffer;
      try {
        body = await readBodyAtMost(request.body, maxBytes);
      } catch (error) {
        if (error instanceof BodyTooLarge) return refuse(requestTooLarge(maxBytes));
        throw error;
      }
      try {
        // Codings are listed in the order they were applied: undo them last to first.
        for (const coding of codings.reverse()) body = await DECODERS[coding](body, { maxOutputLength: maxBytes });
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') return refuse(requestTooLarge(maxBytes, true));
        return refuse(badRequest('The request body does not decode as its Content-Encoding says.'));
      }
      const headers = new fetchAPI.Headers(request.headers);
      headers.delete('content-encoding');
      headers.set('content-length', String(body.length));
      setRequest(new fetchAPI.Request(request.url, { method: request.method, headers, body: new Uint8Array(body.buffer as ArrayBuffer, body.byteOffset, body.byteLength), signal: request.signal }));
    },
  };
}
