// GraphQL over HTTP and over SSE to this router, with nothing but fetch: POST with
// `content-type: application/json` (what the router's CSRF prevention asks of a browser), the API
// key as a bearer token, and for subscriptions `accept: text/event-stream`, read event by event.

/** The router refused the operation: GraphQL errors, each with `extensions.code`. */
export class GraphQLRequestError extends Error {
  constructor(errors, status) {
    super(errors[0]?.message ?? `The router answered ${status}.`);
    this.name = 'GraphQLRequestError';
    this.errors = errors;
    this.status = status;
    this.code = errors[0]?.extensions?.code;
    this.extensions = errors[0]?.extensions ?? {};
  }
}

/** The stream ended before its last event (network, proxy, replica): it may be resumed. */
export class StreamDropped extends Error {
  constructor(cause) {
    super('The connection to the router dropped.');
    this.name = 'StreamDropped';
    this.cause = cause;
  }
}

function headersFor(key, accept) {
  const headers = { 'content-type': 'application/json', accept };
  if (key) headers.authorization = `Bearer ${key}`;
  return headers;
}

async function errorsOf(response) {
  try {
    const body = await response.json();
    if (Array.isArray(body?.errors) && body.errors.length) return body.errors;
  } catch {
    // not JSON: described by the status below
  }
  return [{ message: `The router answered ${response.status}.` }];
}

/** One query or mutation; resolves to `{ data, errors }` (partial data stays usable), rejects when nothing came back. */
export async function graphql(key, query, variables = {}) {
  const response = await fetch('/graphql', {
    method: 'POST',
    headers: headersFor(key, 'application/graphql-response+json, application/json'),
    body: JSON.stringify({ query, variables }),
  });
  let body;
  try {
    body = await response.json();
  } catch {
    throw new GraphQLRequestError(await errorsOf(response), response.status);
  }
  if (!body.data && body.errors?.length) throw new GraphQLRequestError(body.errors, response.status);
  return body;
}

/**
 * A subscription over SSE: yields `{ id, payload }` per `next` event and returns at `complete`.
 * `lastEventId` resumes a stream after its last event received (the router relays it to the chat
 * subgraph, which replays what followed). Throws StreamDropped when the connection ends early.
 */
export async function* subscribe(key, request, { lastEventId, signal } = {}) {
  const headers = headersFor(key, 'text/event-stream');
  if (lastEventId) headers['last-event-id'] = lastEventId;
  let response;
  try {
    response = await fetch('/graphql', { method: 'POST', headers, body: JSON.stringify(request), signal });
  } catch (error) {
    if (signal?.aborted) return;
    throw new StreamDropped(error);
  }
  if (!response.ok || !response.headers.get('content-type')?.includes('text/event-stream')) {
    throw new GraphQLRequestError(await errorsOf(response), response.status);
  }
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = '';
  try {
    for (;;) {
      let read;
      try {
        read = await reader.read();
      } catch (error) {
        if (signal?.aborted) return;
        throw new StreamDropped(error);
      }
      if (read.done) throw new StreamDropped();
      buffer += read.value.replace(/\r\n?/g, '\n');
      let end;
      while ((end = buffer.indexOf('\n\n')) >= 0) {
        const event = parseEvent(buffer.slice(0, end));
        buffer = buffer.slice(end + 2);
        if (event.event === 'complete') return;
        if (event.event === 'next' || (event.event === undefined && event.data)) {
          yield { id: event.id, payload: JSON.parse(event.data) };
        }
      }
    }
  } finally {
    reader.cancel().catch(() => {});
  }
}

function parseEvent(block) {
  const event = { data: '' };
  for (const line of block.split('\n')) {
    if (!line || line.startsWith(':')) continue; // keep-alive comment
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
    if (field === 'data') event.data += (event.data ? '\n' : '') + value;
    else if (field === 'event' || field === 'id') event[field] = value;
  }
  return event;
}
