/**
 * How deep `{`, `[` and `(` nest in a document must be bounded before graphql-js parses it: its
 * parser is recursive, so a few thousand nested list values (`[[[[…`) overflow the stack inside the
 * parser, a 500, before the token limit is reached. No real operation comes near this bound (the
 * selection depth limit is far lower, and GraphiQL's introspection query nests about 12 deep).
 */
export const MAX_DOCUMENT_NESTING = 256;

const OPENING = new Set(['{', '[', '(']);
const CLOSING = new Set(['}', ']', ')']);

/**
 * Whether brackets nest deeper than `limit` anywhere in `source`, in one pass that skips strings,
 * block strings and comments, and stops at the first level past the limit.
 */
export function nestsDeeperThan(source: string, limit: number): boolean {
  let depth = 0;
  for (let i = 0; i < source.length; i++) {
    const char = source[i];
    if (char === '#') {
      while (i < source.length && source[i] !== '\n' && source[i] !== '\r') i++;
    } else if (char === '"') {
      i = source.startsWith('"""', i) ? endOfBlockString(source, i + 3) : endOfString(source, i + 1);
    } else if (OPENING.has(char)) {
      if (++depth > limit) return true;
    } else if (CLOSING.has(char)) {
      depth--;
    }
  }
  return false;
}

/** Index of the closing quote of a string starting at `i` (or of the line end: the parser will complain). */
function endOfString(source: string, i: number): number {
  while (i < source.length && source[i] !== '"' && source[i] !== '\n' && source[i] !== '\r') i += source[i] === '\\' ? 2 : 1;
  return i;
}

/** Index of the last quote of a block string whose content starts at `i`; `\"""` does not end it. */
function endOfBlockString(source: string, i: number): number {
  while (i < source.length) {
    if (source.startsWith('\\"""', i)) i += 4;
    else if (source.startsWith('"""', i)) return i + 2;
    else i++;
  }
  return i;
}
