import DataLoader from 'dataloader';
import { MAX_BATCH_SIZE } from './keyedLoader.ts';

/** A per-request DataLoader for one-to-many lookups (lines of orders, messages of conversations). */
export function groupedLoader<K, V>(
  fetchRows: (keys: readonly K[]) => Promise<V[]>,
  keyOf: (row: V) => K,
): DataLoader<K, V[]> {
  return new DataLoader<K, V[]>(
    async (keys) => {
      const groups = new Map<K, V[]>(keys.map((key) => [key, []]));
      for (const row of await fetchRows(keys)) groups.get(keyOf(row))?.push(row);
      return keys.map((key) => groups.get(key)!);
    },
    { maxBatchSize: MAX_BATCH_SIZE },
  );
}
