import { GraphQLError, type GraphQLErrorOptions } from 'graphql';
import type { ErrorCode } from './errorCodes.ts';

// The two ways the factories build an error; private to lib/errors, so nothing else builds one.
export type Path = ReadonlyArray<string | number>;
export type Extensions = Record<string, unknown>;

export function codedError(message: string, code: ErrorCode, extensions: Extensions = {}, options: GraphQLErrorOptions = {}): GraphQLError {
  return new GraphQLError(message, { ...options, extensions: { code, ...extensions } });
}

/** An error the client caused, answered before execution with `status` (400 unless said otherwise). */
export function refusal(message: string, code: ErrorCode, status: number, extensions: Extensions = {}, options: GraphQLErrorOptions = {}): GraphQLError {
  // spec: false keeps the status for `Accept: application/json` too, where yoga would answer a
  // validation error with 200; an `http` in `extensions` (yoga's own, on a converted error) wins.
  return codedError(message, code, { http: { status, spec: false }, ...extensions }, options);
}
