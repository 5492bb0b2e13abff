import type { OpenStream, StreamEvent } from './eventStream.ts';

export interface ResumableStreamOptions {
  /** Opens the stream, after `lastEventId` when resuming, avoiding the replicas in `exclude`. Rejects when it cannot. */
  open(lastEventId: string | undefined, exclude: ReadonlySet<string>): Promise<OpenStream>;
  /** Resume after this event from the start (the client's own `Last-Event-ID`). */
  lastEventId?: string;
  /** Re-openings after breaks, in all. @default 3 */
  maxReopens?: number;
  /**
   * Whether a stream that broke before its first event may be opened again from the start. Not when
   * opening it may have started work (a `write` opening, such as a chat answer without its
   * idempotency key): a second opening would start it again. @default true
   */
  reopenUnstarted?: boolean;
}

/** Ends a resumable stream that broke and could not be resumed; `after` is the last event delivered. */
export interface Interrupted {
  event: 'interrupted';
  after: string | undefined;
}

/**
 * Opens a stream that survives its upstream: when the connection breaks before `complete`, the
 * stream is opened again on another replica with `Last-Event-ID` set to the last event delivered,
 * so nothing is lost and nothing repeats (the upstream resumes after that event). A stream that
 * broke before its first event is opened again from the start when that is safe (`reopenUnstarted`).
 * One that cannot resume (no event id to resume from, or no replica left) ends with an
 * `interrupted` event, never silently. Returning early (the
 * client went away) closes the open stream.
 *
 * Resolves as soon as a replica has accepted the stream (its response headers), not at its first
 * event: the caller can answer its own client while the first event is still being made, so each
 * hop adds only the cost of passing an event on to the first one. Rejects when no replica can open it.
 */
export async function openResumableEvents(options: ResumableStreamOptions): Promise<AsyncGenerator<StreamEvent | Interrupted>> {
  const opened = await options.open(options.lastEventId, new Set());
  const events = followEvents(opened, options);
  // A generator returned before its first step never runs its finally: close the stream here too.
  const returnEvents = events.return.bind(events);
  events.return = (value) => {
    opened.close();
    return returnEvents(value);
  };
  return events;
}

async function* followEvents(opened: OpenStream, options: ResumableStreamOptions): AsyncGenerator<StreamEvent | Interrupted> {
  let lastEventId = options.lastEventId;
  let delivered = 0;
  let reopens = options.maxReopens ?? 3;
  let stream = opened;
  for (;;) {
    let completed = false;
    try {
      for await (const event of stream.events) {
        if (event.event === 'complete') {
          completed = true;
          break;
        }
        if (event.event !== 'next') continue;
        delivered++;
        if (event.id) lastEventId = event.id;
        yield event;
      }
    } catch {
      // a broken connection: handled below like an early end
    } finally {
      stream.close();
    }
    if (completed) return;
    // Events without ids cannot be resumed without repeating them, nor a stream whose opening started work.
    const resumable = lastEventId !== undefined || (delivered === 0 && options.reopenUnstarted !== false);
    if (!resumable || reopens-- <= 0) {
      yield { event: 'interrupted', after: lastEventId };
      return;
    }
    try {
      stream = await options.open(lastEventId, new Set([stream.replica]));
    } catch {
      yield { event: 'interrupted', after: lastEventId };
      return;
    }
  }
}

export function isInterrupted(event: StreamEvent | Interrupted): event is Interrupted {
  return event.event === 'interrupted' && !('data' in event);
}
