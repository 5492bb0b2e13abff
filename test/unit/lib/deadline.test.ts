import { describe, expect, it } from 'vitest';
import { createDeadline } from '../../../lib/upstream/deadline.ts';

describe('createDeadline', () => {
  it('aborts with the reason of whichever parent aborts, and not as a timeout', () => {
    const [caller, race] = [new AbortController(), new AbortController()];
    const deadline = createDeadline(10_000, caller.signal, race.signal);
    race.abort('lost the race');
    expect([deadline.signal.aborted, deadline.signal.reason, deadline.timedOut]).toEqual([true, 'lost the race', false]);
    deadline.dispose();
  });

  it('starts aborted when a parent already is, and skips missing parents', () => {
    const gone = new AbortController();
    gone.abort('caller left');
    const deadline = createDeadline(10_000, undefined, gone.signal);
    expect(deadline.signal.reason).toBe('caller left');
    deadline.dispose();
  });

  it('times out on its own, and after dispose no parent reaches it', async () => {
    const parent = new AbortController();
    const timed = createDeadline(5, parent.signal);
    await new Promise((resolve) => timed.signal.addEventListener('abort', resolve));
    expect([timed.timedOut, (timed.signal.reason as DOMException).name]).toEqual([true, 'TimeoutError']);
    timed.dispose();
    const disposed = createDeadline(10_000, parent.signal);
    disposed.dispose();
    parent.abort('late');
    expect(disposed.signal.aborted).toBe(false);
  });
});
