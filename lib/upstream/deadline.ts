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
  const timer = setTimeout(() => {
    timedOut = true;
    controller.abort(new DOMException(`deadline of ${timeoutMs} ms exceeded`, 'TimeoutError'));
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
      parent?.removeEventListener('abort', onParentAbort);
    },
  };
}
