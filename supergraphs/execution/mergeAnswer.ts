/**
 * Merges a subgraph's answer into the result in place, as @apollo/gateway's `deepMerge` does: keys the
 * result lacks are taken over as they are (the parsed answer's own objects, not copies), objects present
 * on both sides are merged key by key, lists of the same length element by element, and anything else
 * is replaced. An `undefined` in the answer changes nothing.
 */
export function mergeAnswer(target: Record<string, unknown>, source: unknown): void {
  if (source === undefined || source === null) return;
  const from = source as Record<string, unknown>;
  for (const key in from) {
    const value = from[key];
    if (value === undefined) continue;
    // JSON.parse makes `__proto__` an own key; assigning it would set the target's prototype instead.
    if (key === '__proto__') {
      Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
      continue;
    }
    const existing = Object.hasOwn(target, key) ? target[key] : undefined;
    if (existing && isPlainObject(value)) {
      mergeAnswer(existing as Record<string, unknown>, value);
    } else if (Array.isArray(value) && Array.isArray(existing) && value.length === existing.length) {
      for (let i = 0; i < value.length; i++) {
        const [into, element] = [existing[i], value[i]];
        if (isPlainObject(into) && isPlainObject(element)) mergeAnswer(into as Record<string, unknown>, element);
        else existing[i] = element;
      }
    } else {
      target[key] = value;
    }
  }
}

/** Apollo's `isObject`: an object that is not a list. */
function isPlainObject(value: unknown): boolean {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
