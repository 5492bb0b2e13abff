import { LRUCache } from 'lru-cache';
import type { StoredChunk } from './chunkLog.ts';

/** One message's chunks in memory, and what they cost (kept as they grow, not recounted). */
interface Kept {
  chunks: StoredChunk[];
  bytes: number;
}

const chunkBytes = (chunk: StoredChunk) => 2 * chunk.delta.length + 96;

/**
 * The chunks this process appended lately, per message: listeners of an answer written here read
 * them from memory instead of asking the store (or Redis) once per token. Only chunks whose append
 * committed are kept, in order, so what is served from here is exactly what the log holds; anything
 * not here (older chunks, chunks another replica wrote) is read from the log itself. Bounded in
 * messages and in bytes.
 */
export class RecentChunks {
  private readonly messages: LRUCache<string, Kept>;
  private readonly maxBytes: number;
  private lastPurge = Date.now();

  /** @param ttlMs how long an answer stays after its last append; @param maxBytes @default 32 MiB */
  constructor(options: { maxMessages?: number; ttlMs?: number; maxBytes?: number } = {}) {
    this.maxBytes = options.maxBytes ?? 32 * 1024 * 1024;
    this.messages = new LRUCache({
      max: options.maxMessages ?? 10_000,
      maxSize: this.maxBytes,
      sizeCalculation: (kept) => kept.bytes,
      ttl: options.ttlMs ?? 60_000,
      updateAgeOnGet: false,
    });
  }

  /** Records an appended chunk; a chunk that does not follow the ones kept starts the message's memory over. */
  remember(messageId: string, chunk: StoredChunk): void {
    // Expired answers are not dropped until touched; a soak showed them piling up to the bounds. Every
    // 10 s is enough to keep memory to what the last minute wrote, without a timer per answer.
    if (Date.now() - this.lastPurge > 10_000) {
      this.lastPurge = Date.now();
      this.messages.purgeStale();
    }
    const kept = this.messages.get(messageId);
    if (kept && kept.chunks.at(-1)!.index === chunk.index - 1) {
      kept.chunks.push(chunk);
      kept.bytes += chunkBytes(chunk);
      // Set again: refreshes its time to live and its size; an answer past the whole budget is let go.
      if (kept.bytes > this.maxBytes) this.messages.delete(messageId);
      else this.messages.set(messageId, kept);
    } else this.messages.set(messageId, { chunks: [chunk], bytes: 64 + chunkBytes(chunk) });
  }

  /** Chunks after `after` when memory holds the next one, else undefined (ask the log). */
  read(messageId: string, after: number, limit: number): StoredChunk[] | undefined {
    const kept = this.messages.get(messageId)?.chunks;
    if (!kept) return undefined;
    const from = after + 1 - kept[0].index;
    if (from < 0 || from >= kept.length) return undefined;
    return kept.slice(from, from + limit);
  }

  /** Index of the last chunk this process appended for the message, if it remembers any. */
  top(messageId: string): number | undefined {
    return this.messages.get(messageId)?.chunks.at(-1)?.index;
  }
}
