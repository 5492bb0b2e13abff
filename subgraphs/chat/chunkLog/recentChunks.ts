import { LRUCache } from 'lru-cache';
import type { StoredChunk } from './chunkLog.ts';

/**
 * The chunks this process appended lately, per message: listeners of an answer written here read
 * them from memory instead of asking the store (or Redis) once per token. Only chunks whose append
 * committed are kept, in order, so what is served from here is exactly what the log holds; anything
 * not here (older chunks, chunks another replica wrote) is read from the log itself.
 */
export class RecentChunks {
  private readonly messages: LRUCache<string, StoredChunk[]>;

  /** @param ttlMs how long an answer stays after its last append */
  constructor(options: { maxMessages?: number; ttlMs?: number } = {}) {
    this.messages = new LRUCache({ max: options.maxMessages ?? 10_000, ttl: options.ttlMs ?? 60_000, updateAgeOnGet: false });
  }

  /** Records an appended chunk; a chunk that does not follow the ones kept starts the message's memory over. */
  remember(messageId: string, chunk: StoredChunk): void {
    const kept = this.messages.get(messageId);
    if (kept && kept.at(-1)!.index === chunk.index - 1) {
      kept.push(chunk);
      this.messages.set(messageId, kept); // refreshes its time to live
    } else this.messages.set(messageId, [chunk]);
  }

  /** Chunks after `after` when memory holds the next one, else undefined (ask the log). */
  read(messageId: string, after: number, limit: number): StoredChunk[] | undefined {
    const kept = this.messages.get(messageId);
    if (!kept) return undefined;
    const from = after + 1 - kept[0].index;
    if (from < 0 || from >= kept.length) return undefined;
    return kept.slice(from, from + limit);
  }

  /** Index of the last chunk this process appended for the message, if it remembers any. */
  top(messageId: string): number | undefined {
    return this.messages.get(messageId)?.at(-1)?.index;
  }
}
