/** One event of a text/event-stream: its `data` lines joined with "\n", and its `event` name if any. */
export interface ServerSentEvent {
  event?: string;
  data: string;
}

/**
 * Reads a text/event-stream body as events, per the WHATWG rules that matter for model APIs:
 * `data:` lines accumulate, a blank line dispatches, `:` lines are comments, CR/LF/CRLF all end a line.
 * Bytes are decoded as a stream so a multi-byte character split between two reads stays whole.
 */
export async function* parseServerSentEvents(body: AsyncIterable<Uint8Array | string>): AsyncGenerator<ServerSentEvent> {
  const decoder = new TextDecoder();
  let buffer = '';
  let data: string[] = [];
  let event: string | undefined;
  const dispatch = (): ServerSentEvent | undefined => {
    const out = data.length ? { event, data: data.join('\n') } : undefined;
    data = [];
    event = undefined;
    return out;
  };
  for await (const piece of body) {
    buffer += typeof piece === 'string' ? piece : decoder.decode(piece, { stream: true });
    for (;;) {
      const match = /\r\n|\r|\n/.exec(buffer);
      // A lone CR at the end may be the first half of a CRLF: wait for more.
      if (!match || (match[0] === '\r' && match.index === buffer.length - 1)) break;
      const line = buffer.slice(0, match.index);
      buffer = buffer.slice(match.index + match[0].length);
      if (line === '') {
        const ready = dispatch();
        if (ready) yield ready;
        continue;
      }
      if (line.startsWith(':')) continue;
      const colon = line.indexOf(':');
      const field = colon === -1 ? line : line.slice(0, colon);
      let value = colon === -1 ? '' : line.slice(colon + 1);
      if (value.startsWith(' ')) value = value.slice(1);
      if (field === 'data') data.push(value);
      else if (field === 'event') event = value;
    }
  }
  // The spec drops an event not followed by a blank line; so do we (a cut stream is the caller's to notice).
}
