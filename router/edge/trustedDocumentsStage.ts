import type { Logger } from 'pino';
import { LRUCache } from 'lru-cache';
import { ErrorCode, persistedQueryError } from '../../lib/errors.ts';
import { refusedWith } from '../../lib/server/graphqlEndpoint.ts';
import type { GraphQLParams } from '../../lib/server/graphqlParams.ts';
import type { TrustedDocuments } from '../persistedOperations/trustedDocuments.ts';
import type { EdgeStage } from './edgeRequest.ts';

export interface TrustedDocumentsOptions {
  documents: TrustedDocuments;
  /** `enforce` refuses other operations; `log` runs them and logs each distinct one once. */
  mode: 'log' | 'enforce';
  /** With `enforce`, refuse operations sent as text even when they are in the manifest. @default false */
  requireId?: boolean;
  logger?: Logger;
}

/** The id a client sends for a persisted operation: Apollo's extension, or The Guild's `documentId`. */
export function persistedOperationId(params: Pick<GraphQLParams, 'extensions' | 'documentId'>): string | undefined {
  const persisted = params.extensions?.persistedQuery as { sha256Hash?: unknown } | undefined;
  if (typeof persisted?.sha256Hash === 'string') return persisted.sha256Hash;
  return typeof params.documentId === 'string' ? params.documentId : undefined;
}

/**
 * Trusted documents, as Apollo Router's safelisting does them, in two stages around automatic
 * persisted queries: `byId` replaces a manifest id by its document before anything else looks at
 * the request (APQ included), and `byText` checks the text that is left once APQ has turned a hash
 * into text, so APQ cannot smuggle an operation past the list. Any other operation (an unknown id:
 * 404, a text not in the manifest: 403, with `requireId` any text at all: 400) is refused in
 * `enforce` mode, or run and logged once in `log` mode.
 */
export function createTrustedDocumentsStages({ documents, mode, requireId = false, logger }: TrustedDocumentsOptions): { byId: EdgeStage; byText: EdgeStage } {
  const logged = new LRUCache<string, true>({ max: 10_000 });
  const refuse = mode === 'enforce';
  return {
    byId(request) {
      const id = persistedOperationId(request.params);
      if (id === undefined) return undefined;
      const body = documents.byId(id);
      if (body !== undefined) {
        // The manifest's text wins over any text sent along: only the trusted operation runs.
        const { persistedQuery: _dropped, ...extensions } = request.params.extensions ?? {};
        const { documentId: _id, ...rest } = request.params;
        request.params = { ...rest, query: body, extensions };
        request.fromManifest = true;
        return undefined;
      }
      if (refuse && !request.params.query) {
        return refusedWith(persistedQueryError(ErrorCode.PERSISTED_QUERY_NOT_IN_LIST, 404, 'PersistedQueryNotInList: this id is not in the list of trusted operations.'));
      }
      return undefined;
    },
    byText(request) {
      const query = request.params.query;
      if (request.fromManifest || query === undefined) return undefined;
      if (refuse && requireId) return refusedWith(persistedQueryError(ErrorCode.PERSISTED_QUERY_ID_REQUIRED, 400));
      if (documents.includes(query)) return undefined;
      if (refuse) return refusedWith(persistedQueryError(ErrorCode.PERSISTED_QUERY_NOT_IN_LIST, 403));
      if (!logged.has(query)) {
        logged.set(query, true);
        logger?.warn({ query: query.slice(0, 500) }, 'operation not in the trusted documents manifest (log mode: it runs)');
      }
      return undefined;
    },
  };
}
