import { AsyncLocalStorage } from 'node:async_hooks';

/** What an incoming request hands down to every upstream call it causes. */
export interface RequestScope {
  /** Aborts when the client goes away; upstream calls combine it with their own deadline. */
  signal: AbortSignal;
}

/**
 * The Apollo gateway's data sources cannot be given a per-request AbortSignal through its API, so the
 * server runs each request inside this scope and the subgraph fetcher reads it back.
 */
export const requestScope = new AsyncLocalStorage<RequestScope>();
