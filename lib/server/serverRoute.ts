import type { OutgoingHttpHeaders } from 'node:http';
import type { ServerExchange } from './serverExchange.ts';

/**
 * A path a component answers besides GraphQL (health, a page, its assets): answers and returns true
 * when the request is its own, else returns false and leaves it to the next route.
 */
export type ServerRoute = (exchange: ServerExchange, path: string) => boolean | Promise<boolean>;

/** Answers with a JSON body. */
export function sendJson(exchange: ServerExchange, status: number, body: unknown, headers: OutgoingHttpHeaders = {}): void {
  exchange.send(status, { 'content-type': 'application/json; charset=utf-8', ...headers }, JSON.stringify(body));
}

/** Answers 405 for a method the path does not take. */
export function methodNotAllowed(exchange: ServerExchange, allow = 'GET, HEAD'): void {
  exchange.send(405, { allow, 'content-length': 0 });
}
