import DataLoader from 'dataloader';

/** Largest batch per query; far below SQLite's parameter limit. */
export const MAX_BATCH_SIZE = 500;

/**
 * A per-request DataLoader for by-key lookups: one store query per batch, rows matched back to keys
 * (missing keys give null, so a bad reference nulls one entity instead of failing the batch).
 */
export function keyedLoader<K, V>(
  fetchRows: (keys: readonly K[]) => Promise<V[]>,
  keyOf: (row: V) => K,
): DataLoader<K, V | null> {
  return new DataLoader<K, V | null>(
    async (keys) => {
      const byKey = new Map<K, V>();
      for (const row of await fetchRows(keys)) byKey.set(keyOf(row), row);
      return keys.map((key) => byKey.get(key) ?? null);
    },
    { maxBatchSize: MAX_BATCH_SIZE },
  );
}
