/** A signal that aborts when any parent aborts or after `timeoutMs`, whichever comes first. */
export interface Deadline {
  signal: AbortSignal;
  /** True once the timeout (not the parent) fired. */
  readonly timedOut: boolean;
  /** Removes the timer and the listener on the parent; call it in `finally`. */
  dispose(): void;
}

/**
 * Several parents are listened to directly rather than through AbortSignal.any, which in Node 20
 * builds a signal with weak references and a finalization registry: that showed in the router's
 * CPU profile, once per attempt.
 */
export function createDeadline(timeoutMs: number, ...parents: Array<AbortSignal | undefined>): Deadline {
  return armDeadline(new AbortController(), timeoutMs, ...parents);
}

/**
 * A deadline on a controller the caller already has (an attempt's, which its race aborts when another
 * attempt wins): one signal for the attempt, where a deadline of its own would add a second controller
 * and a listener on the first, per call.
 */
export function armDeadline(controller: AbortController, timeoutMs: number, ...parents: Array<AbortSignal | undefined>): Deadline {
  let timedOut = false;
  const watched = parents.filter((parent): parent is AbortSignal => parent !== undefined);
  const onParentAbort = (event: Event) => controller.abort((event.target as AbortSignal).reason);
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
  const abortedAlready = watched.find((parent) => parent.aborted);
  if (abortedAlready) controller.abort(abortedAlready.reason);
  else for (const parent of watched) parent.addEventListener('abort', onParentAbort, { once: true });
  return {
    signal: controller.signal,
    get timedOut() {
      return timedOut;
    },
    dispose() {
      clearTimeout(timer);
      if (immediate) clearImmediate(immediate);
      for (const parent of watched) parent.removeEventListener('abort', onParentAbort);
    },
  };
}
