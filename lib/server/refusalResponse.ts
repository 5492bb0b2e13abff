import type { GraphQLError } from 'graphql';
import type { FetchAPI } from 'graphql-yoga';
import { errorBody } from '../errorTransforms.ts';

/** A refusal made before GraphQL handling starts, as the JSON answer with the status and headers its error carries. */
export function refusalResponse(error: GraphQLError, fetchAPI: FetchAPI): Response {
  const http = error.extensions.http as { status: number; headers?: Record<string, string> };
  return fetchAPI.Response.json(errorBody(error), { status: http.status, headers: http.headers });
}
