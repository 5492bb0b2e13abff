/** A signal that aborts when `parent` aborts or after `timeoutMs`, whichever comes first. */
export interface Deadline {
  signal: AbortSignal;
  /** True once the timeout (not the parent) fired. */
  readonly timedOut: boolean;
  /** Removes the timer and the listener on the parent; call it in `finally`. */
  dispose(): void;
}

export function createDeadline(timeoutMs: number, parent?: AbortSignal): Deadline {
  const controller = new AbortController();
  let timedOut = false;
  const onParentAbort = () => controller.abort(parent?.reason);
  let immediate: NodeJS.Immediate | undefined;
  const timer = setTimeout(() => {
    // Timers run before I/O in each turn of the event loop: after a stall, an answer may already sit
    // in the socket when this fires. One turn later it has been read, and aborting it is a no-op.
    immediate = setImmediate(() => {
      timedOut = true;
      controller.abort(new DOMException(`deadline of ${timeoutMs} ms exceeded`, 'TimeoutError'));
    });
  }, timeoutMs);
  timer.unref?.();
  if (parent?.aborted) onParentAbort();
  else parent?.addEventListener('abort', onParentAbort, { once: true });
  return {
    signal: controller.signal,
    get timedOut() {
      return timedOut;
    },
    dispose() {
      clearTimeout(timer);
      if (immediate) clearImmediate(immediate);
      parent?.removeEventListener('abort', onParentAbort);
    },
  };
}
