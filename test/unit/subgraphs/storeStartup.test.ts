import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { afterAll, describe, expect, it } from 'vitest';
import { openDatabase } from '../../../subgraphs/store/openDatabase.ts';

// A fresh SQLite file that another starter holds locked for longer than the busy timeout: every
// replica of every subgraph opens the same file at once on `npm start`, and none may fail for it.
const dir = mkdtempSync(join(tmpdir(), 'store-startup-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Holds an exclusive lock on `path` from another thread for `ms`; resolves once it is held. */
function holdExclusiveLock(path: string, ms: number): Promise<{ released: Promise<void> }> {
  const worker = new Worker(
    `const Database = require('better-sqlite3');
     const { parentPort, workerData } = require('node:worker_threads');
     const db = new Database(workerData.path);
     db.exec('begin exclusive');
     parentPort.postMessage('held');
     setTimeout(() => { db.exec('commit'); db.close(); parentPort.postMessage('released'); }, workerData.ms);`,
    { eval: true, workerData: { path, ms } },
  );
  let release!: () => void;
  const released = new Promise<void>((resolve) => (release = resolve));
  return new Promise((resolve, reject) => {
    worker.on('error', reject);
    worker.on('message', (message) => (message === 'held' ? resolve({ released }) : release()));
  });
}

describe('opening the store on a fresh SQLite file', () => {
  it('waits for a starter that holds the file longer than the busy timeout, instead of failing', async () => {
    const path = join(dir, 'fresh.db');
    const lock = await holdExclusiveLock(path, 1_500);
    const started = Date.now();
    let releasedAt = 0;
    void lock.released.then(() => (releasedAt = Date.now()));
    const store = await openDatabase({ path, busyTimeoutMs: 100 });
    try {
      // It got through only after the lock was let go, and then migrated and seeded the file.
      expect(Date.now() - started).toBeGreaterThanOrEqual(1_400);
      await lock.released;
      expect(releasedAt).toBeGreaterThan(0);
      const users = await store.db.selectFrom('users').select('id').execute();
      expect(users.length).toBeGreaterThan(0);
    } finally {
      await store.close();
    }
  });
});
