import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import { sendNodeResponse } from '@whatwg-node/server';
import type { Logger } from 'pino';
import { badRequest, maskedError } from '../errors.ts';
import { errorBody } from '../errorTransforms.ts';
import { readRequestTarget } from './requestTarget.ts';
import { inServerSpan } from '../observability/serverSpan.ts';
import { Http1Exchange } from './serverExchange.ts';

/** What the listener needs of a graphql-yoga (or any @whatwg-node/server) instance. */
export interface NodeRequestHandler {
  handleNodeRequestAndResponse(request: IncomingMessage, response: ServerResponse, context: Record<string, unknown>): Response | Promise<Response>;
}

/**
 * The `node:http` request listener of every component (router, gateways, subgraphs), in place of
 * `createServer(yoga)`. It reads the request target and Host first (readRequestTarget: absolute-form
 * accepted, an invalid Host refused with 400), so the adapter can always build the request's URL;
 * and it answers anything the adapter still throws with a masked JSON 500 instead of the adapter's
 * own handler, which sends `error.stack` as text/plain (file paths of node_modules included). The
 * error goes to the log, never to the client.
 */
export function createRequestListener(app: NodeRequestHandler, logger: Logger): RequestListener {
  return (request, response) => {
    const target = readRequestTarget(request.url ?? '', hostHeaders(request));
    if (!target.ok) {
      sendJson(response, 400, errorBody(badRequest(target.message)));
      return;
    }
    request.url = target.path;
    if (target.host !== undefined) request.headers.host = target.host;
    let handled: Promise<Response>;
    try {
      // In the request's server span: everything yoga runs for it (and calls downstream) joins its trace.
      handled = Promise.resolve(inServerSpan(new Http1Exchange(request, response), target.path, () => app.handleNodeRequestAndResponse(request, response, { req: request, res: response })));
    } catch (error) {
      handled = Promise.reject(error);
    }
    handled
      .then((answer) => sendNodeResponse(answer as never, response, request as never, true), (error: unknown) => {
        logger.error({ err: error }, 'request failed outside GraphQL handling');
        sendJson(response, 500, errorBody(maskedError()));
      })
      .catch((error: unknown) => {
        // Sending failed half-way (the client left, a body stream broke): nothing more can be said to it.
        logger.warn({ err: error }, 'could not send the response');
        if (!response.headersSent) sendJson(response, 500, errorBody(maskedError()));
        else response.destroy();
      });
  };
}

/** Every Host header line (Node keeps only the first in `headers`; RFC 9112 §3.2 says more than one is a 400). */
function hostHeaders(request: IncomingMessage): string[] {
  const values: string[] = [];
  for (let i = 0; i < request.rawHeaders.length; i += 2) {
    if (request.rawHeaders[i].toLowerCase() === 'host') values.push(request.rawHeaders[i + 1]);
  }
  return values;
}

function sendJson(response: ServerResponse, status: number, body: unknown): void {
  if (response.headersSent || response.destroyed) return;
  const text = JSON.stringify(body);
  response.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text) });
  response.end(text);
}
