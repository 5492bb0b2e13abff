/** Token counts of a finished answer, as ChatUsage shows them. */
export interface ChunkUsage {
  promptTokens: number;
  completionTokens: number;
  totalTokens: number;
}

/** One chunk of an answer as the log keeps it; the per-answer facts (model, conversation) live in its generation row. */
export interface StoredChunk {
  /** 0, 1, 2, … with no gap and no repeat within a message. */
  index: number;
  delta: string;
  done: boolean;
  finishReason?: string | null;
  usage?: ChunkUsage | null;
}

/**
 * The per-message log of chunks that every chat replica shares: a generator appends each chunk as
 * it is written, and any replica replays and follows it. Appends are strictly in order, so two
 * replicas that both believe they generate a message can never write a gap or a repeat: the second
 * writer of an index is refused and stops.
 */
export interface ChunkLog {
  readonly kind: 'redis' | 'store';
  /** Appends `chunk` when its index is exactly the next one of the message; false when it is not (another writer got there first). */
  append(messageId: string, chunk: StoredChunk): Promise<boolean>;
  /** Chunks after index `after`, in order, at most `limit`; recent local appends come from memory. */
  read(messageId: string, after: number, limit?: number): Promise<StoredChunk[]>;
  /** Like read, but always from the log itself: what another replica would see (used before continuing an answer). */
  readStored(messageId: string, after: number, limit?: number): Promise<StoredChunk[]>;
  /**
   * Resolves when the message may have new chunks: at once for an append in this process, for one
   * elsewhere as soon as the log can tell (at the latest after `pollMs`), or when `signal` aborts.
   * `elsewhere` says the writer is another replica, so it is worth listening for its appends.
   */
  waitForAppend(messageId: string, pollMs: number, signal: AbortSignal, elsewhere?: boolean): Promise<void>;
  /**
   * Index of the last chunk of the message appended by this process, if it remembers one: a listener
   * of an answer written here that has caught up with it waits for more instead of asking the log.
   */
  localTop(messageId: string): number | undefined;
  close(): Promise<void>;
}
