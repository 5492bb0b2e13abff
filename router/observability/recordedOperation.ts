import { readOptionalFile } from '../../lib/readOptionalFile.ts';

/** One distinct operation a router served: what `npm run schema:check` replays against a new schema. */
export interface RecordedOperation {
  /** sha256 of Apollo's usage-reporting signature (literals hidden, aliases dropped, fields sorted). */
  signature: string;
  /** The operation name, or `null` for an anonymous one. */
  name: string | null;
  type: 'query' | 'mutation' | 'subscription';
  /** The operation and the fragments it spreads, whitespace stripped and string literals blanked. */
  document: string;
  /** Epoch ms of the last request with this signature. */
  lastSeen: number;
  /** Requests seen since it was first recorded (approximate across several routers). */
  count: number;
}

/** The file the router writes (when it has no Redis) and schema:check reads. */
export interface RecordedOperationsFile {
  version: 1;
  operations: RecordedOperation[];
}

/** Redis keys of the shared record (several routers write to one). */
export const RECORDED_OPERATIONS_KEYS = {
  /** Hash: signature → RecordedOperation as JSON. */
  operations: 'operations:recorded',
  /** Sorted set: signature scored by last-seen ms, to keep the most recent `max`. */
  lastSeen: 'operations:last-seen',
} as const;

/** Reads a recorded-operations file; a missing file is an empty record. */
export function readRecordedOperationsFile(path: string): RecordedOperation[] {
  const text = readOptionalFile(path);
  if (text === undefined) return [];
  const parsed = JSON.parse(text) as Partial<RecordedOperationsFile>;
  if (parsed.version !== 1 || !Array.isArray(parsed.operations)) throw new Error(`${path}: not a recorded-operations file (version 1)`);
  return parsed.operations;
}
