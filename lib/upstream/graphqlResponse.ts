/** A GraphQL answer as it came over the wire (parsed JSON, not yet trusted beyond its shape). */
export interface GraphQLResponse {
  data?: Record<string, unknown> | null;
  errors?: ReadonlyArray<WireError>;
  extensions?: Record<string, unknown>;
}

/** An error object as an upstream sends it. */
export interface WireError {
  message?: unknown;
  path?: unknown;
  locations?: unknown;
  extensions?: unknown;
}

/** A JSON object with `data` or `errors`, i.e. something a GraphQL server meant as an answer; else undefined. */
export function parseGraphQLResponse(text: string): GraphQLResponse | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return undefined;
  const { data, errors, extensions } = parsed as { data?: unknown; errors?: unknown; extensions?: unknown };
  const dataOk = data === undefined || data === null || (typeof data === 'object' && !Array.isArray(data));
  const errorsOk = errors === undefined || (Array.isArray(errors) && errors.every((e) => typeof e === 'object' && e !== null));
  if (!dataOk || !errorsOk || (data === undefined && errors === undefined)) return undefined;
  const result: GraphQLResponse = { data: data as GraphQLResponse['data'], errors: errors as GraphQLResponse['errors'] };
  if (extensions && typeof extensions === 'object' && !Array.isArray(extensions)) result.extensions = extensions as Record<string, unknown>;
  return result;
}

/**
 * What a gateway of ours answers with when its body is `{"data":{…}}` and nothing else (no errors,
 * no extensions): the router may then pass the body on as it arrives, without reading it.
 */
export const DATA_ONLY_HEADER = 'x-graphql-data-only';

/**
 * A body that is nothing but `{"data":{…}}` (what a GraphQL server writes for an answer without
 * errors or extensions), recognised without parsing it: such an answer can be passed on as the bytes
 * it came in. Anything else (errors, extensions, another shape) is for parseGraphQLResponse.
 */
export function isCleanDataBody(text: string): boolean {
  return text.startsWith('{"data":{') && text.endsWith('}}') && !text.includes('"errors"') && !text.includes('"extensions"');
}

/** A clean answer (isCleanDataBody) whose `data` is parsed only if someone reads it. */
export function lazyGraphQLResponse(text: string): GraphQLResponse {
  let data: Record<string, unknown> | undefined;
  return {
    get data() {
      return (data ??= (JSON.parse(text) as { data: Record<string, unknown> }).data);
    },
  };
}
