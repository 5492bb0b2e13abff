/** How deep and how large a parsed JSON value is, as far as `measureJson` looked. */
export interface JsonMeasure {
  /** Deepest nesting of arrays and objects (a scalar is 0, `[1]` is 1, `{"a":[1]}` is 2). */
  depth: number;
  /** Bytes of its JSON text (UTF-8), exact for what JSON.parse produced. */
  bytes: number;
  /** Which limit stopped the walk; the other figures are then lower bounds. */
  exceeded?: 'depth' | 'bytes';
}

/**
 * Measures a value parsed from a client's JSON without recursion, stopping at the first limit it
 * passes, so a 5,000-level array costs a few dozen steps and never the call stack that
 * JSON.stringify, structuredClone or a logger would need for it.
 */
export function measureJson(value: unknown, limits: { maxDepth: number; maxBytes?: number }): JsonMeasure {
  const { maxDepth, maxBytes = Number.POSITIVE_INFINITY } = limits;
  const pending: Array<[unknown, number]> = [[value, 0]];
  let depth = 0;
  let bytes = 0;
  while (pending.length) {
    const [current, level] = pending.pop()!;
    if (current !== null && typeof current === 'object') {
      const container = level + 1;
      if (container > depth) depth = container;
      if (depth > maxDepth) return { depth, bytes, exceeded: 'depth' };
      if (Array.isArray(current)) {
        bytes += 2 + Math.max(0, current.length - 1); // brackets and commas
        for (const item of current) pending.push([item, container]);
      } else {
        const keys = Object.keys(current);
        bytes += 2 + Math.max(0, keys.length - 1);
        for (const key of keys) {
          bytes += stringBytes(key) + 1; // the key and its colon
          pending.push([(current as Record<string, unknown>)[key], container]);
        }
      }
    } else {
      bytes += scalarBytes(current);
    }
    if (bytes > maxBytes) return { depth, bytes, exceeded: 'bytes' };
  }
  return { depth, bytes };
}

function scalarBytes(value: unknown): number {
  if (typeof value === 'string') return stringBytes(value);
  if (typeof value === 'number') return Number.isFinite(value) ? String(value).length : 4;
  if (typeof value === 'boolean') return value ? 4 : 5;
  return 4; // null (and undefined, which JSON.parse never produces)
}

/** A flat string: JSON.stringify cannot recurse on it. */
function stringBytes(value: string): number {
  return Buffer.byteLength(JSON.stringify(value));
}
