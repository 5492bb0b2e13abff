import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { launchStack, type Stack, type StackOptions } from './launchStack.ts';

export interface ScratchStack extends Stack {
  /** Its folder: the SQLite file (`data.db`) and one log file per component (`logs/`). */
  dir: string;
  /** Stops the stack and removes its folder (kept when KEEP_STACK_DIR is set, for post-mortems). */
  dispose(): Promise<void>;
}

/** The whole stack on free ports with a database and logs of its own, for tests and benchmarks. */
export async function launchScratchStack(options: StackOptions & { demoApiKey: string }): Promise<ScratchStack> {
  const dir = mkdtempSync(join(tmpdir(), 'supergraph-'));
  const { demoApiKey, ...rest } = options;
  let stack: Stack;
  try {
    stack = await launchStack({
      ports: 'ephemeral',
      output: { dir: join(dir, 'logs') },
      ...rest,
      env: { DATABASE_PATH: join(dir, 'data.db'), DEMO_API_KEY: demoApiKey, LOG_LEVEL: 'warn', ...rest.env },
    });
  } catch (error) {
    if (!process.env.KEEP_STACK_DIR) rmSync(dir, { recursive: true, force: true });
    throw error;
  }
  return Object.assign(stack, {
    dir,
    async dispose() {
      await stack.stop();
      if (!process.env.KEEP_STACK_DIR) rmSync(dir, { recursive: true, force: true });
    },
  });
}
