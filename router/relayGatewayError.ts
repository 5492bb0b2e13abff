import { Source, type GraphQLError } from 'graphql';
import { MASKED_MESSAGE, isPublicError, maskedError } from '../lib/errors.ts';
import { relayedError } from '../lib/errorTransforms.ts';
import type { WireError } from '../lib/upstream/graphqlResponse.ts';

export interface RelayOptions {
  /** Supergraph that answered; added as `extensions.supergraph` unless the gateway set one. */
  supergraph: string;
  /**
   * The client's query text when the gateway saw exactly that text (passthrough); only then do the
   * gateway's `locations` point into the client's document.
   */
  source?: string;
}

/** Extension keys that can carry stack traces, internal details or another hop's HTTP status. */
const DROPPED_EXTENSIONS = new Set(['exception', 'stacktrace', 'stack', 'originalError', 'http', 'unexpected']);

/**
 * Absolute URLs and `host:port` pairs (IPv4, localhost): inside this platform they are internal
 * addresses, e.g. in a relayed "connect ECONNREFUSED 127.0.0.1:4111".
 */
const ADDRESS_PATTERNS = [
  /\b[a-z][a-z0-9+.-]*:\/\/[^\s"'<>)]+/gi,
  /\b(?:\d{1,3}\.){3}\d{1,3}(?::\d+)?\b/g,
  /\blocalhost:\d+\b/gi,
];

/**
 * Turns a gateway's error into one a client may see: path and known codes (with their extensions)
 * relayed, stack traces and internal URLs removed, anything with an unknown code masked.
 */
export function relayGatewayError(wire: WireError, options: RelayOptions): GraphQLError {
  const rawExtensions = isRecord(wire.extensions) ? wire.extensions : {};
  const path = isPath(wire.path) ? wire.path : undefined;
  if (!isPublicError({ extensions: rawExtensions })) {
    return maskedError(path, { supergraph: options.supergraph });
  }
  const extensions: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(rawExtensions)) {
    if (!DROPPED_EXTENSIONS.has(key)) extensions[key] = redact(value);
  }
  extensions.supergraph ??= options.supergraph;
  const message = typeof wire.message === 'string' ? redact(wire.message) as string : MASKED_MESSAGE;
  const located = options.source !== undefined ? positionsOf(wire.locations, options.source) : undefined;
  return relayedError(message, {
    path,
    extensions,
    ...(located ? { source: located.source, positions: located.positions } : {}),
  });
}

/** Replaces internal addresses and cuts stack traces in strings, deeply. */
function redact(value: unknown, depth = 0): unknown {
  if (typeof value === 'string') {
    const withoutStack = value.split(/\n\s+at /)[0];
    return ADDRESS_PATTERNS.reduce((text, pattern) => text.replace(pattern, '[internal]'), withoutStack);
  }
  if (depth > 5 || value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map((item) => redact(item, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value)) {
    if (!DROPPED_EXTENSIONS.has(key)) out[key] = redact(item, depth + 1);
  }
  return out;
}

function positionsOf(locations: unknown, text: string): { source: Source; positions: number[] } | undefined {
  if (!Array.isArray(locations) || locations.length === 0) return undefined;
  const lineStarts = [0];
  for (let i = 0; i < text.length; i++) if (text[i] === '\n') lineStarts.push(i + 1);
  const positions: number[] = [];
  for (const location of locations) {
    if (!isRecord(location)) return undefined;
    const { line, column } = location;
    if (typeof line !== 'number' || typeof column !== 'number' || line < 1 || line > lineStarts.length || column < 1) return undefined;
    positions.push(lineStarts[line - 1] + column - 1);
  }
  return { source: new Source(text), positions };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isPath(value: unknown): value is Array<string | number> {
  return Array.isArray(value) && value.every((segment) => typeof segment === 'string' || typeof segment === 'number');
}
