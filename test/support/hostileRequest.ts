/** One hostile request as a table row of test/integration/hostileInput.test.ts. */
export interface HostileCase {
  name: string;
  /** `router`, a gateway (`gateway-identity`), or a subgraph replica (`articles-0`). */
  target: string;
  method?: 'GET' | 'POST' | 'PUT' | 'DELETE';
  /** Path and query string on the target's origin. @default "/graphql" */
  path?: string;
  /** Headers, or a function of the setup (for keys and signatures made once the stack runs). */
  headers?: Record<string, string> | (() => Record<string, string>);
  body?: string | Buffer | (() => string | Buffer);
  status: number;
  /** `extensions.code` of the first error; null when the answer has no errors (or no body). */
  code: string | null;
  /** A code that must be among the errors when it is not the first one (e.g. two rules refuse). */
  alsoCode?: string;
}

/** What a case got back. */
export interface HostileAnswer {
  status: number;
  headers: Headers;
  text: string;
  body?: { data?: unknown; errors?: Array<{ message: string; extensions?: Record<string, unknown> }> };
}

const JSON_HEADERS = { 'content-type': 'application/json', accept: 'application/graphql-response+json, application/json' };

/** Sends a case to `origin` as it is written: no client library smoothing anything over. */
export async function sendHostile(origin: string, hostile: HostileCase): Promise<HostileAnswer> {
  const headers = typeof hostile.headers === 'function' ? hostile.headers() : hostile.headers;
  const body = typeof hostile.body === 'function' ? hostile.body() : hostile.body;
  const method = hostile.method ?? (body === undefined ? 'GET' : 'POST');
  const response = await fetch(origin + (hostile.path ?? '/graphql'), {
    method,
    headers: { ...(body !== undefined ? JSON_HEADERS : { accept: JSON_HEADERS.accept }), ...headers },
    body: typeof body === 'string' || body === undefined ? body : new Uint8Array(body),
    signal: AbortSignal.timeout(20_000),
  });
  const text = await response.text();
  let parsed: HostileAnswer['body'];
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    parsed = undefined;
  }
  return { status: response.status, headers: response.headers, text, body: parsed };
}

/**
 * What must never reach a client: stack frames, file paths, module names, internal addresses,
 * low-level error names and the JSON parser's own error object.
 */
const LEAKS: Array<[string, RegExp]> = [
  ['a stack frame', /\bat .*\(?(?:\/|file:|node:)[^)\s]*:\d+:\d+/],
  ['a source position', /\.[cm]?[jt]s:\d+(?::\d+)?/],
  ['a "stack" field', /"stack"\s*:/],
  ['node_modules', /node_modules/],
  ['a file path', /\/(?:work|home|tmp|usr)\/|file:\/\//],
  ['an internal address', /127\.0\.0\.1|localhost|\[::1\]|0\.0\.0\.0/],
  ['a socket error', /\bE(?:CONNREFUSED|CONNRESET|PIPE|TIMEDOUT|ADDRINUSE)\b/],
  ['a runtime error name', /\b(?:TypeError|RangeError|ReferenceError|SyntaxError)\b/],
  ['the parser error object', /originalError/],
  ['a store or client library', /\b(?:sqlite|kysely|better-sqlite3|undici|ioredis|postgres(?:ql)?|pg-pool)\b/i],
  ['a PostgreSQL error', /\bSQLSTATE\b|violates (?:unique|foreign key|check) constraint|relation "[^"]+" does not exist|could not serialize access/i],
];

/** The first internal detail found in an answer (body or headers), if any. */
export function leakIn(answer: Pick<HostileAnswer, 'text' | 'headers'>): string | undefined {
  const headerText = [...answer.headers].map(([name, value]) => `${name}: ${value}`).join('\n');
  for (const [what, pattern] of LEAKS) {
    const match = pattern.exec(answer.text) ?? pattern.exec(headerText);
    if (match) return `${what}: "${match[0]}"`;
  }
  if (answer.headers.has('x-powered-by')) return 'an X-Powered-By header';
  return undefined;
}
