import type { GraphQLError } from 'graphql';
import type { YogaInitialContext } from 'graphql-yoga';
import type { Principal } from '../lib/principal.ts';

/** What router plugins add to yoga's per-request context. */
export interface RouterContext {
  /** Who the request acts for; set by useAuth (anonymous when absent). */
  principal?: Principal;
  /** Request-level errors reported next to the result, e.g. "could not check the API key". */
  requestErrors?: GraphQLError[];
}

export type RouterExecutionContext = YogaInitialContext & RouterContext;
