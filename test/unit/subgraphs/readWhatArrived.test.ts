import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { readWhatArrived } from '../../../subgraphs/chat/inference/readWhatArrived.ts';

/** A body that receives its first chunk, then the rest and a broken connection while its reader is still busy with the first. */
function breakingBody([first, ...rest]: string[]): Readable {
  const body = new Readable({ read() {} });
  body.push(Buffer.from(first));
  setTimeout(() => {
    for (const chunk of rest) body.push(Buffer.from(chunk));
    setImmediate(() => body.destroy(new Error('other side closed')));
  }, 5);
  return body;
}

async function readSlowly(source: AsyncIterable<Buffer>): Promise<{ got: string[]; error?: string }> {
  const got: string[] = [];
  try {
    for await (const chunk of source) {
      got.push(chunk.toString());
      await new Promise((resolve) => setTimeout(resolve, 20)); // storing it takes a while
    }
  } catch (error) {
    return { got, error: (error as Error).message };
  }
  return { got };
}

describe('readWhatArrived', () => {
  it('hands on every chunk that arrived before the connection broke, then the failure', async () => {
    expect(await readSlowly(readWhatArrived(breakingBody(['a', 'b', 'c'])))).toEqual({ got: ['a', 'b', 'c'], error: 'other side closed' });
  });

  it('is needed: the body iterated itself drops what its slow reader had not asked for yet', async () => {
    const direct = await readSlowly(breakingBody(['a', 'b', 'c']) as AsyncIterable<Buffer>);
    expect(direct.error).toBe('other side closed');
    expect(direct.got).toEqual(['a']);
  });

  it('ends with the body, and destroys a body its reader left early', async () => {
    expect(await readSlowly(readWhatArrived(Readable.from([Buffer.from('x'), Buffer.from('y')])))).toEqual({ got: ['x', 'y'] });
    const body = new Readable({ read() {} });
    body.push(Buffer.from('first'));
    for await (const chunk of readWhatArrived(body)) {
      expect(chunk.toString()).toBe('first');
      break;
    }
    expect(body.destroyed).toBe(true);
  });
});
