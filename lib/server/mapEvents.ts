/** An event after which the stream ends (mapEvents closes its source). */
export class LastEvent<U> {
  constructor(readonly value: U) {}
}

/**
 * `source` with each event passed through `map`, as an async generator whose `return()` reaches the
 * source at once. A generator function would queue that `return()` behind the `next()` it is waiting
 * in, so a client that leaves a quiet stream would keep it (and what it holds upstream) open until
 * the next event, maybe minutes later. `map` may drop an event (undefined) or make it the last
 * (a LastEvent: the source is then closed). `onEnd` runs once, however the stream ends.
 */
export function mapEvents<T, U>(source: AsyncIterable<T>, map: (event: T) => U | undefined | LastEvent<U>, onEnd?: () => void): AsyncGenerator<U> {
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
        for (;;) {
          if (ended) return { done: true, value: undefined };
          const step = await iterator.next();
          if (step.done) {
            end();
            return { done: true, value: undefined };
          }
          const value = map(step.value);
          if (value === undefined) continue;
          if (value instanceof LastEvent) {
            end();
            void iterator.return?.(undefined);
            return { done: false, value: value.value };
          }
          return { done: false, value: value as U };
        }
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
