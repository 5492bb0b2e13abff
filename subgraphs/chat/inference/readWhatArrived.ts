import { on } from 'node:events';
import type { Readable } from 'node:stream';

/**
 * A response body read as it arrives, whatever the reader is doing: what came before the connection
 * broke is handed on first, and only then the failure. Iterating the body itself pulls it, and a body
 * destroyed by a broken connection drops what it had received but not yet been asked for: a model
 * answer whose last tokens arrived while the reader was storing earlier ones (a slow store) lost
 * them, and they were generated and paid for again when the answer was continued. Node's `events.on`
 * queues each `data` event as it comes and hands the queue on before an `error`.
 * Model answers are small (bounded by their token limit), so reading ahead holds little.
 */
export async function* readWhatArrived(body: Readable): AsyncGenerator<Buffer> {
  try {
    // `close` without an error (the reader's own abort) ends it as `end` does.
    for await (const [chunk] of on(body, 'data', { close: ['end', 'close'] })) yield chunk as Buffer;
  } finally {
    if (!body.destroyed) body.destroy();
  }
}
