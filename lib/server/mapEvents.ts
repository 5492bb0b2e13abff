/**
 * `source` with each event passed through `map`, as an async generator whose `return()` reaches the
 * source at once. A generator function would queue that `return()` behind the `next()` it is waiting
 * in, so a client that leaves a quiet stream would keep it (and what it holds upstream) open until
 * the next event, maybe minutes later. `onEnd` runs once, however the stream ends.
 */
export function mapEvents<T, U>(source: AsyncIterable<T>, map: (event: T) => U, onEnd?: () => void): AsyncGenerator<U> {
  const iterator = source[Symbol.asyncIterator]();
  let ended = false;
  const end = () => {
    if (ended) return;
    ended = true;
    onEnd?.();
  };
  const mapped: AsyncGenerator<U> = {
    async next() {
      try {
        const step = await iterator.next();
        if (step.done) {
          end();
          return { done: true, value: undefined };
        }
        return { done: false, value: map(step.value) };
      } catch (error) {
        end();
        throw error;
      }
    },
    async return(value?: unknown) {
      end();
      await iterator.return?.(value);
      return { done: true, value: undefined };
    },
    async throw(error?: unknown) {
      end();
      await iterator.return?.(undefined);
      throw error;
    },
    [Symbol.asyncIterator]() {
      return mapped;
    },
  } as AsyncGenerator<U>;
  return mapped;
}
