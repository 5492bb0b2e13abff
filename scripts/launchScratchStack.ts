import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { launchStack, type Stack, type StackOptions } from './launchStack.ts';
import { createScratchDatabase, type ScratchDatabase } from './scratchDatabase.ts';

export interface ScratchStack extends Stack {
  /** Its folder: the SQLite file (`data.db`) and one log file per component (`logs/`). */
  dir: string;
  /** Its database, on the engine TEST_DATABASE names (SQLite in `dir` by default, else PostgreSQL). */
  database: ScratchDatabase;
  /** Stops the stack, drops its database and removes its folder (kept when KEEP_STACK_DIR is set, for post-mortems). */
  dispose(): Promise<void>;
}

/**
 * Load tests and benchmarks send far more than a client may: the rate limiter runs as in
 * production (its cost is part of what they measure) but with limits no run reaches. A test of the
 * limits themselves sets its own through `env`.
 */
const UNREACHABLE_RATE_LIMITS = {
  RATE_LIMIT_ANONYMOUS: '1000000/1',
  RATE_LIMIT_FREE: '1000000/1',
  RATE_LIMIT_PRO: '1000000/1',
  RATE_LIMIT_ENTERPRISE: '1000000/1',
};

/** The whole stack on free ports with a database and logs of its own, for tests and benchmarks. */
export async function launchScratchStack(options: StackOptions & { demoApiKey: string }): Promise<ScratchStack> {
  const dir = mkdtempSync(join(tmpdir(), 'supergraph-'));
  const { demoApiKey, ...rest } = options;
  let stack: Stack;
  let database: ScratchDatabase | undefined;
  try {
    database = await createScratchDatabase(dir);
    stack = await launchStack({
      ports: 'ephemeral',
      output: { dir: join(dir, 'logs') },
      ...rest,
      env: { ...database.env, DEMO_API_KEY: demoApiKey, LOG_LEVEL: 'warn', ...UNREACHABLE_RATE_LIMITS, ...rest.env },
    });
  } catch (error) {
    await database?.drop();
    if (!process.env.KEEP_STACK_DIR) rmSync(dir, { recursive: true, force: true });
    throw error;
  }
  const db = database;
  return Object.assign(stack, {
    dir,
    database: db,
    async dispose() {
      await stack.stop();
      await db.drop();
      if (!process.env.KEEP_STACK_DIR) rmSync(dir, { recursive: true, force: true });
    },
  });
}
