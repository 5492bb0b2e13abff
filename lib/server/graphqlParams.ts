import type { GraphQLError } from 'graphql';
import { badRequest } from '../errors.ts';
import { readRequestBody } from './readRequestBody.ts';
import type { ServerExchange } from './serverExchange.ts';
import { checkNestingLimits, type NestingLimitsOptions } from './nestingLimits.ts';

/** The parameters of one GraphQL-over-HTTP request, their types checked. */
export interface GraphQLParams {
  query?: string;
  operationName?: string;
  variables?: Record<string, unknown>;
  extensions?: Record<string, unknown>;
  /** A trusted document's id, as The Guild's clients send it (only where `extraParams` names it). */
  documentId?: string;
}

export interface GraphQLParamsOptions {
  /** Largest body, as sent and once decoded. */
  maxBodyBytes: number;
  nesting?: NestingLimitsOptions;
  /** Parameters accepted beyond the four of the spec. @default [] */
  extraParams?: readonly string[];
}

export type ParamsRead = { ok: true; params: GraphQLParams } | { ok: false; error: GraphQLError };

const KNOWN = new Set(['query', 'operationName', 'variables', 'extensions']);

/**
 * Reads the parameters of a GraphQL-over-HTTP request, GET or POST, and refuses (400, whatever the
 * client accepts: such a request is not a well-formed GraphQL-over-HTTP request) what is not one:
 * a body that is not JSON or is empty, a batch, a parameter of the wrong type (`operationName: ["a"]`
 * included), an unknown parameter, or JSON nested past the limits (nestingLimits.ts). A POST body is
 * JSON, `application/graphql` (the query as text) or a form; any other type is 415.
 */
export async function readGraphQLParams(exchange: ServerExchange, options: GraphQLParamsOptions): Promise<ParamsRead> {
  let raw: unknown;
  if (exchange.method === 'GET' || exchange.method === 'HEAD') {
    const search = exchange.url.indexOf('?');
    const read = fromSearch(new URLSearchParams(search < 0 ? '' : exchange.url.slice(search + 1)), options.extraParams);
    if (!read.ok) return read;
    raw = read.params;
  } else {
    const type = contentTypeOf(exchange.header('content-type'));
    if (type !== 'application/json' && type !== 'application/graphql+json' && type !== 'application/graphql' && type !== 'application/x-www-form-urlencoded') {
      return { ok: false, error: badRequest('Unsupported content type: send application/json.', 415) };
    }
    const body = await readRequestBody(exchange, options.maxBodyBytes);
    if (!body.ok) return body;
    if (type === 'application/graphql') {
      raw = { query: body.body.toString('utf8') };
    } else if (type === 'application/x-www-form-urlencoded') {
      const read = fromSearch(new URLSearchParams(body.body.toString('utf8')), options.extraParams);
      if (!read.ok) return read;
      raw = read.params;
    } else {
      try {
        raw = JSON.parse(body.body.toString('utf8'));
      } catch {
        return { ok: false, error: badRequest(body.body.length ? 'POST body sent invalid JSON.' : 'POST body is empty: send a JSON object.') };
      }
    }
  }
  const checked = checkParams(raw, options.extraParams);
  if (!checked.ok) return checked;
  try {
    checkNestingLimits(checked.params, options.nesting);
  } catch (error) {
    return { ok: false, error: error as GraphQLError };
  }
  return checked;
}

/** The media type of a Content-Type, lower-cased, without parameters (a list keeps its first, as some clients send one). */
export function contentTypeOf(header: string | undefined): string | undefined {
  if (header === undefined) return undefined;
  return header.split(',')[0].split(';')[0].trim().toLowerCase();
}

function fromSearch(search: URLSearchParams, extraParams: readonly string[] = []): ParamsRead {
  const params: Record<string, unknown> = {};
  for (const name of [...KNOWN, ...extraParams]) {
    const value = search.get(name);
    if (value === null || value === '') continue;
    if (name === 'variables' || name === 'extensions') {
      try {
        params[name] = JSON.parse(value);
      } catch {
        return { ok: false, error: badRequest('The request parameters are not valid: variables and extensions must be JSON.') };
      }
    } else {
      params[name] = value;
    }
  }
  return { ok: true, params };
}

function checkParams(raw: unknown, extraParams: readonly string[] = []): ParamsRead {
  if (Array.isArray(raw)) return { ok: false, error: badRequest('Batching is not supported: send one operation per request.') };
  if (raw === null || typeof raw !== 'object') return { ok: false, error: badRequest('The request body must be a JSON object with a "query".') };
  const params = raw as Record<string, unknown>;
  for (const key of Object.keys(params)) {
    if (params[key] === null || params[key] === undefined) continue;
    if (!KNOWN.has(key) && !extraParams.includes(key)) return { ok: false, error: badRequest('The request has a parameter GraphQL over HTTP does not know.') };
  }
  const { query, operationName, variables, extensions, documentId } = params;
  if (query != null && typeof query !== 'string') return { ok: false, error: badRequest('"query" must be a string.') };
  if (operationName != null && typeof operationName !== 'string') return { ok: false, error: badRequest('"operationName" must be a string.') };
  if (variables != null && !isObject(variables)) return { ok: false, error: badRequest('"variables" must be an object.') };
  if (extensions != null && !isObject(extensions)) return { ok: false, error: badRequest('"extensions" must be an object.') };
  if (documentId != null && typeof documentId !== 'string') return { ok: false, error: badRequest('"documentId" must be a string.') };
  return {
    ok: true,
    params: {
      ...(query != null ? { query } : {}),
      ...(operationName != null ? { operationName } : {}),
      ...(variables != null ? { variables: variables as Record<string, unknown> } : {}),
      ...(extensions != null ? { extensions: extensions as Record<string, unknown> } : {}),
      ...(documentId != null ? { documentId } : {}),
    },
  };
}

function isObject(value: unknown): boolean {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}
