import type { Plugin } from 'graphql-yoga';
import { badRequest } from '../errors.ts';
import { checkNestingLimits, type NestingLimitsOptions } from './nestingLimits.ts';

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

