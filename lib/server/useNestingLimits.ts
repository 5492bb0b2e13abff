import type { Plugin } from 'graphql-yoga';
import { badRequest, ErrorCode, operationLimitExceeded, requestOverLimit, variableTooDeep } from '../errors.ts';
import { documentNesting } from './documentNesting.ts';
import { measureJson } from './measureJson.ts';

export interface NestingLimitsOptions {
  /** Deepest nesting of arrays and objects in one variable's value, in `extensions` and in any other parameter. @default 32 */
  maxDepth?: number;
  /** Largest `extensions`, as JSON. @default 16384 */
  maxExtensionsBytes?: number;
  /** Deepest nesting of `{`, `[` and `(` in the GraphQL document (`query`), checked before it is parsed. @default 128 */
  maxDocumentNesting?: number;
}

const GRAPHQL_NAME = /^[_A-Za-z][_0-9A-Za-z]{0,63}$/;

function isGraphQLErrorLike(value: unknown): boolean {
  return value instanceof Error && value.name === 'GraphQLError';
}

/**
 * Bounds the nesting (and the size of `extensions`) of what a client sends, at the moment the request
 * is read, before any plugin sees the parameters: JSON.parse builds a 5,000-level array from a 10 KB body without complaint, and the
 * first recursive walk over it (JSON.stringify for a cache key or a size limit, a logger) overflows
 * the stack, which surfaced as a 500. Here, in `onRequestParseDone`, nothing has looked at the
 * parameters yet, whatever the order of the other plugins' `onParams`:
 * - a variable nested deeper than `maxDepth` is BAD_USER_INPUT (400), whether or not the operation uses it;
 * - `extensions` nested deeper, or larger than `maxExtensionsBytes`, and any other parameter nested
 *   deeper, are BAD_REQUEST (400);
 * - a parameter the parser cannot read (GET `variables=` that is not JSON) is BAD_REQUEST, where
 *   yoga would let the SyntaxError through as a 500;
 * - a document (`query`) whose brackets nest deeper than `maxDocumentNesting` is BAD_REQUEST before
 *   graphql-js parses it (recursively: 5,000 nested list literals overflowed the stack, a 500).
 * Both walks are iterative and stop at the first limit, so refusing costs less than accepting.
 */
export function useNestingLimits(options: NestingLimitsOptions = {}): Plugin {
  const check = (params: unknown) => checkNestingLimits(params, options);
  return {
    onRequestParse({ requestParser, setRequestParser }) {
      if (requestParser) {
        setRequestParser(async (request) => {
          try {
            return await requestParser(request);
          } catch (error) {
            // Yoga's own refusals (invalid JSON body, body too large) are GraphQLErrors with a status;
            // anything else is a parameter the parser choked on, and its message may quote the input.
            if (isGraphQLErrorLike(error)) throw error;
            throw badRequest('The request parameters are not valid: variables and extensions must be JSON.');
          }
        });
      }
      return {
        onRequestParseDone({ requestParserResult }) {
          if (Array.isArray(requestParserResult)) requestParserResult.forEach(check);
          else check(requestParserResult);
        },
      };
    },
  };
}

/**
 * Throws the refusal for GraphQL parameters (`{ query, variables, extensions, ... }`) whose JSON is
 * over the limits; exported for transports that bypass yoga's request parsing (graphql-ws messages).
 */
export function checkNestingLimits(params: unknown, options: NestingLimitsOptions = {}): void {
  const { maxDepth = 32, maxExtensionsBytes = 16 * 1024, maxDocumentNesting = 128 } = options;
  if (params === null || typeof params !== 'object' || Array.isArray(params)) return;
  for (const [key, value] of Object.entries(params)) {
    if (key === 'query' && typeof value === 'string' && documentNesting(value, maxDocumentNesting).exceeded) {
      throw operationLimitExceeded(ErrorCode.MAX_DEPTH_LIMIT, `The document nests brackets deeper than ${maxDocumentNesting} levels.`, { limit: maxDocumentNesting });
    }
    if (value === null || typeof value !== 'object') continue;
    if (key === 'variables') checkVariables(value, maxDepth);
    else if (key === 'extensions') checkExtensions(value, maxDepth, maxExtensionsBytes);
    else if (measureJson(value, { maxDepth }).exceeded) throw badRequest(`A request parameter is nested deeper than ${maxDepth} levels.`);
  }
}

function checkVariables(variables: object, maxDepth: number): void {
  // The variables object itself is one level; each value may nest maxDepth more.
  if (!measureJson(variables, { maxDepth: maxDepth + 1 }).exceeded) return;
  if (Array.isArray(variables)) throw variableTooDeep(undefined, maxDepth);
  for (const [name, value] of Object.entries(variables)) {
    if (measureJson(value, { maxDepth }).exceeded) throw variableTooDeep(GRAPHQL_NAME.test(name) ? name : undefined, maxDepth);
  }
}

function checkExtensions(extensions: object, maxDepth: number, maxBytes: number): void {
  const measure = measureJson(extensions, { maxDepth, maxBytes });
  if (measure.exceeded === 'depth') throw requestOverLimit(`The request's extensions are nested deeper than ${maxDepth} levels.`, { limit: maxDepth });
  if (measure.exceeded === 'bytes') throw requestOverLimit(`The request's extensions take more than ${maxBytes} bytes.`, { limit: maxBytes });
}
