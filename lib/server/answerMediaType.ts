/** How a single GraphQL result is sent: JSON of either media type, or one event of a stream. */
export type SingleMediaType = 'application/graphql-response+json' | 'application/json' | 'text/event-stream';

/** What a client's `Accept` allows: for one result (undefined: nothing we send) and for a stream of them. */
export interface AcceptedAnswers {
  single: SingleMediaType | undefined;
  stream: boolean;
}

/** What `406 Not Acceptable` lists in `Accept`. */
export const ANSWER_MEDIA_TYPES = 'application/graphql-response+json; charset=utf-8, application/json; charset=utf-8, text/event-stream; charset=utf-8';

const JSON_TYPES = ['application/graphql-response+json', 'application/json'] as const;
const cache = new Map<string, AcceptedAnswers>();

/**
 * Reads `Accept` as graphql-yoga did, so clients see the same answers: the media types in the order
 * listed (quality values ignored), those with a charset other than UTF-8 skipped, none meaning
 * `*\/*`. A single result is JSON in the first listed type that is one of ours (`*\/*` and
 * `application/*` mean `application/json`), else one SSE event when the client takes a stream; a
 * stream needs `text/event-stream` (or a wildcard). Memoised per header value: clients send a handful.
 */
export function acceptedAnswers(accept: string | undefined): AcceptedAnswers {
  const key = accept ?? '';
  let known = cache.get(key);
  if (!known) {
    known = parse(accept);
    if (cache.size < 1_000) cache.set(key, known);
  }
  return known;
}

function parse(accept: string | undefined): AcceptedAnswers {
  const types: string[] = [];
  for (const entry of (accept || '*/*').replace(/\s/g, '').toLowerCase().split(',')) {
    const [type, ...params] = entry.split(';');
    const charset = params.find((param) => param.startsWith('charset='));
    if (type && (!charset || charset === 'charset=utf-8')) types.push(type);
  }
  let single: SingleMediaType | undefined;
  for (const type of types) {
    const matching = JSON_TYPES.filter((ours) => matches(ours, type));
    if (matching.length) {
      single = matching[matching.length - 1];
      break;
    }
  }
  const stream = types.some((type) => matches('text/event-stream', type));
  return { single: single ?? (stream ? 'text/event-stream' : undefined), stream };
}

function matches(ours: string, asked: string): boolean {
  const [askedType, askedSubtype] = asked.split('/');
  const [type, subtype] = ours.split('/');
  return (askedType === '*' || askedType === type) && (askedSubtype === '*' || askedSubtype === subtype);
}
