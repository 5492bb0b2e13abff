/**
 * How a router leaves a balancer's rotation before it stops: the part of its shutdown that depends on
 * the balancer in front of it. Kept apart from the server it drains, so it moves to another server shell
 * unchanged.
 */
export interface RouterDrain {
  /** True once the router was told to stop: `/readyz` then answers 503 "draining". */
  readonly draining: boolean;
  /** Aborted when open streams must end (after the notice): each ends without `complete`, and its client resumes elsewhere. */
  readonly leaving: AbortSignal;
  /** Notes a readiness probe: a balancer is watching, so a drain gives it the notice. */
  probed(): void;
  /**
   * Starts draining: reports not ready, waits the notice while a balancer is watching (it takes the
   * router out of rotation meanwhile; requests keep being served), then ends the open streams.
   * Idempotent; resolves once the streams were told to end.
   */
  begin(): Promise<void>;
}

export interface RouterDrainOptions {
  /**
   * How long a stopping router keeps serving while `/readyz` says "draining", so the balancer's checks
   * take it out of rotation before it closes its listener and its streams: at least the checks'
   * fall × interval + timeout (HAProxy as deploy/haproxy ships it: 2 × 1 s + 2 s).
   * @default 4000
   */
  noticeMs?: number;
  /** @default Date.now */
  now?: () => number;
  /** @default setTimeout */
  sleep?: (ms: number) => Promise<void>;
}

/**
 * A router that nobody probed for this long has no balancer to warn (`npm start`'s single router):
 * it stops at once. Kubernetes probes every 5 s and HAProxy every second, well within it.
 */
const WATCHED_WITHIN_MS = 60_000;

/**
 * The drain order a balancer needs: not ready first, then, once the balancer has had time to notice,
 * streams ended cleanly (their clients reconnect with `Last-Event-ID` and land on another router),
 * then the caller closes the listener and waits for what is in flight.
 */
export function createRouterDrain({ noticeMs = 4_000, now = Date.now, sleep = defaultSleep }: RouterDrainOptions = {}): RouterDrain {
  const leaving = new AbortController();
  let draining = false;
  let lastProbe: number | undefined;
  let begun: Promise<void> | undefined;
  return {
    get draining() {
      return draining;
    },
    leaving: leaving.signal,
    probed() {
      lastProbe = now();
    },
    begin() {
      begun ??= (async () => {
        draining = true;
        const watched = lastProbe !== undefined && now() - lastProbe <= WATCHED_WITHIN_MS;
        if (watched && noticeMs > 0) await sleep(noticeMs);
        leaving.abort(new DOMException('the router is stopping', 'AbortError'));
      })();
      return begun;
    },
  };
}

function defaultSleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
