/** Counts open streams per caller and refuses one over the limit. */
export interface StreamLimiter {
  /** Takes a slot for `caller`; undefined when it already has `limit` open. The release is idempotent. */
  acquire(caller: string): (() => void) | undefined;
  /** Open streams of one caller, or of all callers. */
  open(caller?: string): number;
}

/**
 * A per-caller cap on concurrent streams: each open subscription holds connections and memory at
 * every tier for as long as it lives, so one key must not be able to hold thousands.
 */
export function createStreamLimiter(limit: number): StreamLimiter {
  const counts = new Map<string, number>();
  let total = 0;
  return {
    acquire(caller) {
      const count = counts.get(caller) ?? 0;
      if (count >= limit) return undefined;
      counts.set(caller, count + 1);
      total++;
      let released = false;
      return () => {
        if (released) return;
        released = true;
        total--;
        const left = (counts.get(caller) ?? 1) - 1;
        if (left > 0) counts.set(caller, left);
        else counts.delete(caller);
      };
    },
    open: (caller) => (caller === undefined ? total : (counts.get(caller) ?? 0)),
  };
}
