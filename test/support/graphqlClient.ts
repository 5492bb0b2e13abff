/** A GraphQL-over-HTTP response as a test sees it. */
export interface GraphQLHttpResult {
  status: number;
  contentType: string | null;
  body: {
    data?: Record<string, any> | null;
    errors?: Array<{ message: string; path?: Array<string | number>; extensions?: Record<string, any> }>;
  };
}

/** POSTs a GraphQL request (or a raw body) and parses the answer. */
export async function postGraphQL(
  url: string,
  request: { query?: string; variables?: Record<string, unknown>; operationName?: string; extensions?: Record<string, unknown> } | string,
  headers: Record<string, string> = {},
): Promise<GraphQLHttpResult> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json, application/json', ...headers },
    body: typeof request === 'string' ? request : JSON.stringify(request),
  });
  const text = await response.text();
  let body: GraphQLHttpResult['body'];
  try {
    body = JSON.parse(text);
  } catch {
    throw new Error(`non-JSON answer (${response.status}): ${text.slice(0, 200)}`);
  }
  return { status: response.status, contentType: response.headers.get('content-type'), body };
}

/** Authorization header for an API key. */
export function bearer(key: string): Record<string, string> {
  return { authorization: `Bearer ${key}` };
}

/** Polls `check` until it returns true or `timeoutMs` passes. */
export async function waitFor(check: () => Promise<boolean> | boolean, timeoutMs = 15_000, intervalMs = 100): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return;
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}
