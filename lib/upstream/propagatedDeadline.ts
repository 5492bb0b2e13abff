/**
 * Deadline propagation between tiers, after Envoy's `x-envoy-expected-rq-timeout-ms`: every attempt
 * tells the upstream how long its caller will wait for it. A gateway gives its subgraph calls that
 * long minus a margin, so when a subgraph hangs it answers from its fallback before the router gives
 * up on it: otherwise the router's adaptive deadline would fire first, answer the whole supergraph
 * from the router's fallback and count a healthy gateway as failed.
 */
export const DEADLINE_HEADER = 'x-upstream-deadline-ms';

/** Longest deadline honoured; anything above is no deadline worth propagating. */
const MAX_PROPAGATED_MS = 10 * 60_000;

/** Time kept back for the upstream's own work after its calls give up, and for the answer's way back. */
export function propagationMarginMs(deadlineMs: number): number {
  return Math.max(25, Math.round(deadlineMs * 0.1));
}

/**
 * The request's own signal, combined with the caller's propagated deadline (less the margin) when the
 * header carries one. Aborts with a TimeoutError when the deadline is what ran out. `whenDone` is
 * handed the function that drops the timer, for when the request ends.
 */
export function withPropagatedDeadline(signal: AbortSignal, header: string | null | undefined, whenDone?: (release: () => void) => void): AbortSignal {
  if (!header || !/^\d{1,9}$/.test(header.trim())) return signal;
  const deadlineMs = Number(header);
  if (deadlineMs <= 0 || deadlineMs > MAX_PROPAGATED_MS) return signal;
  const budgetMs = Math.max(1, deadlineMs - propagationMarginMs(deadlineMs));
  // A plain timer, not AbortSignal.any([signal, AbortSignal.timeout()]): Node holds a timeout signal
  // inside a composite only weakly, and one collected early never fires.
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(new DOMException(`propagated deadline of ${deadlineMs} ms exceeded`, 'TimeoutError')), budgetMs);
  timer.unref();
  const onAbort = () => {
    clearTimeout(timer);
    controller.abort(signal.reason);
  };
  if (signal.aborted) onAbort();
  else signal.addEventListener('abort', onAbort, { once: true });
  // A request that ended in time lets its timer and listener go now, not when the deadline passes.
  whenDone?.(() => {
    clearTimeout(timer);
    signal.removeEventListener('abort', onAbort);
  });
  return controller.signal;
}
