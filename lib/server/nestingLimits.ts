import { ErrorCode, badRequest, operationLimitExceeded, requestOverLimit, variableTooDeep } from '../errors.ts';
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

/**
 * Throws the refusal for GraphQL parameters (`{ query, variables, extensions, ... }`) whose JSON nests
 * too deep, checked as soon as they are read and before anything else looks at them: JSON.parse
 * builds a 5,000-level array from a 10 KB body without complaint, and the first recursive walk over
 * it (JSON.stringify for a cache key or a size limit, a logger) overflows the stack.
 * - a variable nested deeper than `maxDepth` is BAD_USER_INPUT (400), whether or not the operation uses it;
 * - `extensions` nested deeper, or larger than `maxExtensionsBytes`, and any other parameter nested
 *   deeper, are BAD_REQUEST (400);
 * - a document (`query`) whose brackets nest deeper than `maxDocumentNesting` is refused before
 *   graphql-js parses it (recursively: 5,000 nested list literals overflowed the stack).
 * Both walks are iterative and stop at the first limit, so refusing costs less than accepting.
 * HTTP requests and graphql-ws messages alike.
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
