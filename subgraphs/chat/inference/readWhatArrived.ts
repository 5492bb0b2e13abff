import type { Readable } from 'node:stream';

/**
 * A response body read as it arrives, whatever the reader is doing: what came before the connection
 * broke is handed on first, and only then the failure. Iterating the body itself pulls it, and a body
 * destroyed by a broken connection drops what it had received but not yet been asked for: a model
 * answer whose last tokens arrived while the reader was storing earlier ones (a slow store) lost
 * them, and they were generated and paid for again when the answer was continued.
 * Model answers are small (bounded by their token limit), so reading ahead holds little.
 */
export async function* readWhatArrived(body: Readable): AsyncGenerator<Buffer> {
  const arrived: Buffer[] = [];
  let ended = false;
  let failure: { error: unknown } | undefined;
  let wake: (() => void) | undefined;
  const notify = () => {
    wake?.();
    wake = undefined;
  };
  body.on('data', (chunk: Buffer) => {
    arrived.push(chunk);
    notify();
  });
  body.once('end', () => {
    ended = true;
    notify();
  });
  body.once('error', (error) => {
    failure = { error };
    notify();
  });
  // Destroyed without an error (the reader's own abort): nothing more will come.
  body.once('close', () => {
    ended = true;
    notify();
  });
  try {
    for (;;) {
      while (arrived.length) yield arrived.shift()!;
      if (failure) throw failure.error;
      if (ended) return;
      await new Promise<void>((resolve) => (wake = resolve));
    }
  } finally {
    if (!body.destroyed) body.destroy();
  }
}
