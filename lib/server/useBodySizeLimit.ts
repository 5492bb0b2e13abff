import type { Plugin } from 'graphql-yoga';
import { badRequest, requestTooLarge } from '../errors.ts';
import { BodyTooLarge, readBodyAtMost } from './readBodyAtMost.ts';
import { refusalResponse } from './refusalResponse.ts';

/** Only a single non-negative integer is a Content-Length (comma-joined values are a smuggling attempt). */
const CONTENT_LENGTH = /^\d+$/;

/**
 * Bounds request bodies at `maxBytes`, in place of yoga's `maxRequestBodySize` (set it to false).
 * Yoga pipes every body through a TransformStream inside a new Request, which costs a few percent of
 * a small request's CPU at the router; but a body with a Content-Length cannot be longer than it says
 * (Node's HTTP parser reads exactly that many bytes), so checking the header is enough. Only a chunked
 * body, with no length to check, is read here up to the limit. Encoded bodies are left to
 * useRequestDecompression, which bounds them as sent and once decoded.
 */
export function useBodySizeLimit({ maxBytes }: { maxBytes: number }): Plugin {
  return {
    async onRequest({ request, setRequest, endResponse, fetchAPI }) {
      if (request.method === 'GET' || request.method === 'HEAD' || request.headers.has('content-encoding')) return;
      const declared = request.headers.get('content-length');
      if (declared !== null) {
        if (!CONTENT_LENGTH.test(declared)) return endResponse(refusalResponse(badRequest('The Content-Length header is invalid.'), fetchAPI));
        if (Number(declared) > maxBytes) return endResponse(refusalResponse(requestTooLarge(maxBytes), fetchAPI));
        return;
      }
      if (!request.body) return;
      let body: Buffer;
      try {
        body = await readBodyAtMost(request.body, maxBytes);
      } catch (error) {
        if (error instanceof BodyTooLarge) return endResponse(refusalResponse(requestTooLarge(maxBytes), fetchAPI));
        throw error;
      }
      const headers = new fetchAPI.Headers(request.headers);
      headers.delete('transfer-encoding');
      headers.set('content-length', String(body.length));
      setRequest(new fetchAPI.Request(request.url, { method: request.method, headers, body: new Uint8Array(body.buffer as ArrayBuffer, body.byteOffset, body.byteLength), signal: request.signal }));
    },
  };
}
