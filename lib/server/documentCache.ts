import { GraphQLError, parse, specifiedRules, validate, type DocumentNode, type GraphQLSchema, type ValidationRule } from 'graphql';
import { LRUCache } from 'lru-cache';
import { parseFailed, validationFailed } from '../errors.ts';

export interface DocumentCacheOptions {
  /** Distinct documents kept, parsed and validated. @default 1000 */
  max?: number;
  /** Validation rules besides graphql-js's own (limits, introspection). @default none */
  rules?: readonly ValidationRule[];
  /** Parser options (a token limit, whose refusal `parseError` turns into its own error). @default none */
  maxTokens?: number;
  /** The refusal for a parse failure. @default parseFailed: 400, 200 for `application/json` clients */
  parseError?(error: GraphQLError): GraphQLError;
}

/** Parsing and validation, each done once per distinct document text (and schema). */
export interface DocumentCache {
  /** The document for this text, the same object every time, or the refusal for text that does not parse. */
  parse(query: string): DocumentNode | GraphQLError;
  /** The refusals for a document against a schema (empty when valid), worked out once per pair. */
  validate(schema: GraphQLSchema, document: DocumentNode): readonly GraphQLError[];
}

const NO_ERRORS: readonly GraphQLError[] = [];

/**
 * What graphql-yoga's parser and validation caches did for every tier: a client sends the same few
 * operations again and again, so each text is parsed once (an LRU of `max` texts) and each document
 * validated once per schema (a WeakMap on both, so a reloaded schema takes its results with it). The
 * same DocumentNode for the same text is also what every later per-document cache keys on.
 */
export function createDocumentCache(options: DocumentCacheOptions = {}): DocumentCache {
  const { max = 1_000, maxTokens, parseError = parseFailed } = options;
  const rules = options.rules?.length ? [...specifiedRules, ...options.rules] : specifiedRules;
  const parsed = new LRUCache<string, DocumentNode | GraphQLError>({ max });
  const validated = new WeakMap<GraphQLSchema, WeakMap<DocumentNode, readonly GraphQLError[]>>();
  return {
    parse(query) {
      let known = parsed.get(query);
      if (known === undefined) {
        try {
          known = parse(query, { noLocation: false, ...(maxTokens ? { maxTokens } : {}) });
        } catch (error) {
          known = error instanceof Error && error.name === 'GraphQLError' ? parseError(error as GraphQLError) : parseError(new GraphQLError('Syntax Error'));
        }
        parsed.set(query, known);
      }
      return known;
    },
    validate(schema, document) {
      let bySchema = validated.get(schema);
      if (!bySchema) validated.set(schema, (bySchema = new WeakMap()));
      let known = bySchema.get(document);
      if (!known) {
        const errors = validate(schema, document, rules);
        known = errors.length ? errors.map(withCode) : NO_ERRORS;
        bySchema.set(document, known);
      }
      return known;
    },
  };
}

/** graphql-js's own rules set no code: GRAPHQL_VALIDATION_FAILED, answered 200 to `application/json` clients as the spec says. Ours keep theirs. */
function withCode(error: GraphQLError): GraphQLError {
  if (error.extensions?.code) return error;
  return validationFailed(error.message, { nodes: error.nodes, source: error.source, positions: error.positions }, { http: { status: 400, spec: true } });
}
