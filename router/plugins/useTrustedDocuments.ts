import type { Plugin } from 'graphql-yoga';
import type { Logger } from 'pino';
import { LRUCache } from 'lru-cache';
import { ErrorCode, persistedQueryError } from '../../lib/errors.ts';
import type { TrustedDocuments } from '../persistedOperations/trustedDocuments.ts';

export interface TrustedDocumentsOptions {
  documents: TrustedDocuments;
  /** `enforce` refuses other operations; `log` runs them and logs each distinct one once. */
  mode: 'log' | 'enforce';
  /** With `enforce`, refuse operations sent as text even when they are in the manifest. @default false */
  requireId?: boolean;
  logger?: Logger;
}

/** The id a client sends for a persisted operation: Apollo's extension, or The Guild's `documentId`. */
export function persistedOperationId(params: { extensions?: Record<string, unknown>; documentId?: unknown }): string | undefined {
  const persisted = params.extensions?.persistedQuery as { sha256Hash?: unknown } | undefined;
  if (typeof persisted?.sha256Hash === 'string') return persisted.sha256Hash;
  return typeof params.documentId === 'string' ? params.documentId : undefined;
}

/**
 * Trusted documents, as Apollo Router's safelisting does them: a manifest id is replaced by its
 * document before anything else looks at the request (APQ included); any other operation — an
 * unknown id (404), a query whose text is not in the manifest (403), or with `requireId` any text
 * at all (400) — is refused in `enforce` mode, or run and logged in `log` mode. Text is checked
 * after APQ has turned a hash into text, so APQ cannot smuggle an operation past the list.
 * Own plugin rather than @graphql-yoga/plugin-persisted-operations: that plugin decides about
 * free-form operations from the Request alone, so it can neither match their text against the
 * manifest nor only log them.
 */
export function useTrustedDocuments({ documents, mode, requireId = false, logger }: TrustedDocumentsOptions): Plugin {
  const fromManifest = new WeakSet<Request>();
  const logged = new LRUCache<string, true>({ max: 10_000 });
  const refuse = mode === 'enforce';

  return {
    onParams({ params, setParams, request }) {
      const raw = params as typeof params & { documentId?: unknown };
      const id = persistedOperationId(raw);
      if (id === undefined) return;
      const body = documents.byId(id);
      if (body !== undefined) {
        // The manifest's text wins over any text sent along: only the trusted operation runs.
        const { persistedQuery: _dropped, ...extensions } = params.extensions ?? {};
        const { documentId: _id, ...rest } = raw;
        setParams({ ...rest, query: body, extensions });
        fromManifest.add(request);
        return;
      }
      if (refuse && !params.query) {
        throw persistedQueryError(ErrorCode.PERSISTED_QUERY_NOT_IN_LIST, 404, 'PersistedQueryNotInList: this id is not in the list of trusted operations.');
      }
    },
    onParse({ params, context }) {
      const request = (context as { request?: Request }).request;
      if (request && fromManifest.has(request)) return;
      const query = typeof params.source === 'string' ? params.source : params.source.body;
      if (refuse && requireId) throw persistedQueryError(ErrorCode.PERSISTED_QUERY_ID_REQUIRED, 400);
      if (documents.includes(query)) return;
      if (refuse) throw persistedQueryError(ErrorCode.PERSISTED_QUERY_NOT_IN_LIST, 403);
      if (!logged.has(query)) {
        logged.set(query, true);
        logger?.warn({ query: query.slice(0, 500) }, 'operation not in the trusted documents manifest (log mode: it runs)');
      }
    },
  };
}
