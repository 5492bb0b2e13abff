/**
 * In-process wake-ups for followers of a message: an append in this process wakes its followers at
 * once instead of at their next poll. Appends elsewhere are found by polling (the store) or by
 * pub/sub (Redis), which call `wake` too.
 */
export class AppendWakeups {
  private readonly waiters = new Map<string, Set<() => void>>();

  wake(messageId: string): void {
    const set = this.waiters.get(messageId);
    if (!set) return;
    this.waiters.delete(messageId);
    for (const resolve of set) resolve();
  }

  /** Resolves on the next wake of the message, after `timeoutMs`, or when `signal` aborts. */
  wait(messageId: string, timeoutMs: number, signal: AbortSignal): Promise<void> {
    if (signal.aborted) return Promise.resolve();
    return new Promise<void>((resolve) => {
      let set = this.waiters.get(messageId);
      if (!set) this.waiters.set(messageId, (set = new Set()));
      const done = () => {
        clearTimeout(timer);
        signal.removeEventListener('abort', done);
        const current = this.waiters.get(messageId);
        current?.delete(done);
        if (current?.size === 0) this.waiters.delete(messageId);
        resolve();
      };
      const timer = setTimeout(done, timeoutMs);
      signal.addEventListener('abort', done, { once: true });
      set.add(done);
    });
  }

  /** Messages some follower in this process is waiting on. */
  watched(): string[] {
    return [...this.waiters.keys()];
  }
}
