import { badUserInput } from '../lib/errors.ts';

/** Largest page a connection field serves. */
export const MAX_PAGE_SIZE = 100;

/** Validates `first` (null means the default); out of range is BAD_USER_INPUT, not a silent clamp. */
export function pageSize(first: number | null | undefined, fallback = 10): number {
  const size = first ?? fallback;
  if (!Number.isInteger(size) || size < 0 || size > MAX_PAGE_SIZE) {
    throw badUserInput(`"first" must be between 0 and ${MAX_PAGE_SIZE}, got ${size}.`, { argument: 'first' });
  }
  return size;
}

/** An opaque cursor naming one node of a connection of `kind` (e.g. "article", "order"). */
export function encodeCursor(kind: string, id: string): string {
  return Buffer.from(`${kind}:${id}`, 'utf8').toString('base64url');
}

/**
 * The node id inside a cursor. Anything that is not a cursor we issued for this kind of connection
 * (bad base64, another connection's cursor, garbage) is BAD_USER_INPUT.
 */
export function decodeCursor(kind: string, cursor: string): string {
  const decoded = Buffer.from(cursor, 'base64url').toString('utf8');
  const prefix = `${kind}:`;
  // base64url decoding is lenient; re-encoding tells real cursors from strings that merely decode.
  if (!decoded.startsWith(prefix) || decoded.length === prefix.length || encodeCursor(kind, decoded.slice(prefix.length)) !== cursor) {
    throw badUserInput(`"after" is not a valid cursor: use the endCursor of a previous page.`, { argument: 'after' });
  }
  return decoded.slice(prefix.length);
}

/** BAD_USER_INPUT for a well-formed cursor whose node no longer exists (or is not the caller's). */
export function unknownCursor(): never {
  throw badUserInput(`"after" refers to an unknown position: use the endCursor of a previous page.`, { argument: 'after' });
}
