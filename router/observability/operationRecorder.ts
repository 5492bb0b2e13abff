import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { DocumentNode } from 'graphql';
import { Redis } from 'ioredis';
import { LRUCache } from 'lru-cache';
import type { Logger } from 'pino';
import { identifyOperation } from './operationSignature.ts';
import { RECORDED_OPERATIONS_KEYS, readRecordedOperationsFile, type RecordedOperation } from './recordedOperation.ts';

/** Where the record lives: a JSON file (one router), or Redis (several routers share one record). */
export type RecordSink = { kind: 'file'; path: string } | { kind: 'redis'; url: string; keyPrefix?: string };

export interface OperationRecorderOptions {
  sink: RecordSink;
  /** Distinct operations kept; the least recently seen go first. @default 1000 */
  max?: number;
  /** How often new sightings are written out. @default 5000 */
  flushIntervalMs?: number;
  /** @default Date.now */
  now?: () => number;
  logger?: Logger;
}

export interface OperationRecorder {
  /** Notes one request's operation; cheap: the identity is worked out once per parsed document. */
  record(document: DocumentNode, operationName: string | null, type: RecordedOperation['type']): void;
  /** What is recorded, most recent first. */
  snapshot(): RecordedOperation[];
  /** Writes what changed since the last flush. */
  flush(): Promise<void>;
  /** Flushes and stops; idempotent. */
  close(): Promise<void>;
}

/**
 * Records every distinct operation the router serves (signature, name, document, last seen), the
 * counterpart of GraphOS's operation metrics for `npm run schema:check`: a schema change is replayed
 * against what clients really sent. Bounded in count, written out in the background, never on the
 * request path; a failed write is logged and retried at the next flush.
 */
export function createOperationRecorder(options: OperationRecorderOptions): OperationRecorder {
  const { sink, max = 1_000, flushIntervalMs = 5_000, now = Date.now, logger } = options;
  // Each entry holds its document's text: bounded in bytes as well as in count.
  const entries = new LRUCache<string, RecordedOperation>({ max, maxSize: 32 * 1024 * 1024, sizeCalculation: (entry) => 2 * JSON.stringify(entry).length + 64 });
  // Yoga's parse cache hands back one DocumentNode per distinct text, so identities are memoised on it.
  const identities = new WeakMap<DocumentNode, Map<string, { signature: string; document: string }>>();
  const dirty = new Set<string>();
  const redis = sink.kind === 'redis' ? openRedis(sink) : undefined;
  if (sink.kind === 'file') {
    try {
      for (const entry of readRecordedOperationsFile(sink.path).slice(0, max).reverse()) entries.set(entry.signature, entry);
    } catch (error) {
      logger?.warn({ err: error, path: sink.path }, 'recorded operations unreadable; starting a new record');
    }
  }

  const flush = async () => {
    if (!dirty.size) return;
    const changed = [...dirty];
    dirty.clear();
    try {
      if (redis) await writeRedis(redis, changed.flatMap((s) => entries.get(s) ?? []), max);
      else if (sink.kind === 'file') writeFile(sink.path, [...entries.values()]);
    } catch (error) {
      for (const signature of changed) dirty.add(signature);
      logger?.warn({ err: error }, 'could not write the recorded operations; retrying at the next flush');
    }
  };
  let flushing: Promise<void> = Promise.resolve();
  const timer = setInterval(() => void (flushing = flushing.then(flush)), flushIntervalMs);
  timer.unref();
  let closing: Promise<void> | undefined;

  return {
    record(document, operationName, type) {
      let byName = identities.get(document);
      if (!byName) identities.set(document, (byName = new Map()));
      const key = operationName ?? '';
      let identity = byName.get(key);
      if (!identity) byName.set(key, (identity = identifyOperation(document, operationName)));
      const existing = entries.get(identity.signature);
      if (existing) {
        existing.lastSeen = now();
        existing.count++;
      } else {
        entries.set(identity.signature, { signature: identity.signature, name: operationName, type, document: identity.document, lastSeen: now(), count: 1 });
      }
      dirty.add(identity.signature);
    },
    snapshot: () => [...entries.values()],
    flush: () => (flushing = flushing.then(flush)),
    close() {
      closing ??= (async () => {
        clearInterval(timer);
        await (flushing = flushing.then(flush));
        await redis?.quit().catch(() => redis.disconnect());
      })();
      return closing;
    },
  };
}

function openRedis(sink: { url: string; keyPrefix?: string }): Redis {
  const redis = new Redis(sink.url, { keyPrefix: sink.keyPrefix ?? 'sg:', enableOfflineQueue: false, maxRetriesPerRequest: 0, connectTimeout: 1_000 });
  redis.on('error', () => {}); // reported by the failed flush that meets it
  return redis;
}

async function writeRedis(redis: Redis, changed: RecordedOperation[], max: number): Promise<void> {
  if (!changed.length) return;
  const multi = redis.multi();
  for (const entry of changed) {
    multi.hset(RECORDED_OPERATIONS_KEYS.operations, entry.signature, JSON.stringify(entry));
    multi.zadd(RECORDED_OPERATIONS_KEYS.lastSeen, entry.lastSeen, entry.signature);
  }
  await multi.exec();
  const excess = (await redis.zcard(RECORDED_OPERATIONS_KEYS.lastSeen)) - max;
  if (excess > 0) {
    const oldest = await redis.zpopmin(RECORDED_OPERATIONS_KEYS.lastSeen, excess);
    const signatures = oldest.filter((_, i) => i % 2 === 0);
    if (signatures.length) await redis.hdel(RECORDED_OPERATIONS_KEYS.operations, ...signatures);
  }
}

/** Written whole, through a rename, so a reader never sees half a file. */
function writeFile(path: string, operations: RecordedOperation[]): void {
  mkdirSync(dirname(path), { recursive: true });
  const temporary = `${path}.${process.pid}.tmp`;
  writeFileSync(temporary, JSON.stringify({ version: 1, operations }, null, 1));
  renameSync(temporary, path);
}

/** Reads the shared record in Redis (for schema:check). */
export async function readRecordedOperationsFromRedis(url: string, keyPrefix = 'sg:'): Promise<RecordedOperation[]> {
  const redis = new Redis(url, { keyPrefix, maxRetriesPerRequest: 1, connectTimeout: 2_000, lazyConnect: true });
  try {
    await redis.connect();
    const all = await redis.hgetall(RECORDED_OPERATIONS_KEYS.operations);
    return Object.values(all).map((json) => JSON.parse(json) as RecordedOperation);
  } finally {
    redis.disconnect();
  }
}
