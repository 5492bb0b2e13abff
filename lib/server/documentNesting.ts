/**
 * How deeply the brackets of a GraphQL document (`{`, `[`, `(`) nest, read as text before anything
 * parses it, stopping as soon as `max` is passed. Strings, block strings and comments are skipped,
 * so a `{` inside a string does not count. graphql-js parses (and validates, and prints)
 * recursively and overflows the call stack somewhere past 1,000 levels, below the router's token
 * limit for a list literal (`[[[…]]]`) and anywhere in a gateway or subgraph, which have none.
 */
export function documentNesting(source: string, max: number): { depth: number; exceeded: boolean } {
  let depth = 0;
  let deepest = 0;
  for (let i = 0; i < source.length; i++) {
    const c = source.charCodeAt(i);
    if (c === 0x23 /* # */) {
      while (i < source.length && source.charCodeAt(i) !== 0x0a && source.charCodeAt(i) !== 0x0d) i++;
    } else if (c === 0x22 /* " */) {
      if (source.startsWith('"""', i)) {
        const end = blockStringEnd(source, i + 3);
        i = end < 0 ? source.length : end + 2;
      } else {
        i++;
        while (i < source.length && source.charCodeAt(i) !== 0x22 && source.charCodeAt(i) !== 0x0a) i += source.charCodeAt(i) === 0x5c /* \ */ ? 2 : 1;
      }
    } else if (c === 0x7b || c === 0x5b || c === 0x28 /* { [ ( */) {
      if (++depth > deepest) deepest = depth;
      if (deepest > max) return { depth: deepest, exceeded: true };
    } else if (c === 0x7d || c === 0x5d || c === 0x29 /* } ] ) */) {
      depth = Math.max(0, depth - 1);
    }
  }
  return { depth: deepest, exceeded: false };
}

/** Index of the closing `"""` of a block string that starts at `from` (`\"""` does not close it), or -1. */
function blockStringEnd(source: string, from: number): number {
  for (let i = source.indexOf('"""', from); i >= 0; i = source.indexOf('"""', i + 1)) {
    if (source.charCodeAt(i - 1) !== 0x5c) return i;
  }
  return -1;
}
