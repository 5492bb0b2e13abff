import type { ExecutionResult, GraphQLError } from 'graphql';
import { ErrorCode } from '../errors.ts';

/** What an error carries for the HTTP answer, never sent: the status it calls for and the headers to add. */
interface HttpHint {
  status?: number;
  headers?: Record<string, string>;
  /**
   * A GraphQL-over-HTTP request error in a well-formed request (a document that does not parse or
   * validate, variables that do not coerce): `application/json` clients get 200, as the spec says.
   */
  spec?: boolean;
}

/** Status and headers of a single result's answer in `mediaType`. */
export function resultStatus(result: ExecutionResult, mediaType: string): { status: number; headers: Record<string, string> } {
  const headers: Record<string, string> = {};
  const errors = result.errors;
  if (!errors?.length) return { status: 200, headers };
  const legacyJson = mediaType === 'application/json';
  let status = 0;
  let unexpected = false;
  for (const error of errors) {
    const http = error.extensions?.http as HttpHint | undefined;
    if (http) {
      if (http.headers) Object.assign(headers, http.headers);
      if (legacyJson && http.spec) continue;
      if (http.status && http.status > status) status = http.status;
    } else if (error.extensions?.code === ErrorCode.INTERNAL_SERVER_ERROR) {
      unexpected = true;
    }
  }
  if (status) return { status, headers };
  // Over SSE an error the operation itself raised (a subscription that could not start) is an event of the stream.
  if (mediaType === 'text/event-stream') return { status: 200, headers };
  if (!('data' in result) || result.data === undefined) {
    // A request error (nothing executed): a 4xx for the new media type, 200 for the legacy one.
    if (unexpected) return { status: 500, headers };
    return { status: legacyJson ? 200 : 400, headers };
  }
  return { status: 200, headers };
}

/** A result as JSON text, without what only the server may know (the HTTP hints on errors). */
export function resultJson(result: ExecutionResult): string {
  const stringify = (result as { stringify?: () => string }).stringify;
  if (stringify) return stringify();
  return JSON.stringify(publicResult(result));
}

/** A result as a client may see it: errors as JSON without `http` and `unexpected`, no `extensions.http`. */
export function publicResult(result: ExecutionResult): ExecutionResult {
  if (!result.errors?.length && !(result.extensions && 'http' in result.extensions)) return result;
  // A copy in the result's own key order, as the client would have seen it.
  const out: Record<string, unknown> = { ...result };
  if (result.errors) out.errors = result.errors.map(publicError);
  if (result.extensions) {
    const { http: _http, ...extensions } = result.extensions as Record<string, unknown>;
    if (Object.keys(extensions).length) out.extensions = extensions;
    else delete out.extensions;
  }
  return out as ExecutionResult;
}

function publicError(error: GraphQLError): unknown {
  const json = typeof error.toJSON === 'function' ? error.toJSON() : (error as unknown as Record<string, unknown>);
  const extensions = json.extensions as Record<string, unknown> | undefined;
  if (!extensions || !('http' in extensions || 'unexpected' in extensions)) return json;
  const { http: _http, unexpected: _unexpected, ...rest } = extensions;
  const { extensions: _extensions, ...fields } = json;
  return Object.keys(rest).length ? { ...fields, extensions: rest } : fields;
}
