import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { launchStack, type Stack, type StackOptions } from '../../scripts/launchStack.ts';

export const DEMO_KEY = 'test-demo-key-0123456789';

export interface TestStack extends Stack {
  dir: string;
  /** Stops the stack and removes its database and logs. */
  dispose(): Promise<void>;
}

/** The whole stack on free ports with its own SQLite file; logs go to files in its folder. */
export async function startTestStack(options: StackOptions = {}): Promise<TestStack> {
  const dir = mkdtempSync(join(tmpdir(), 'supergraph-test-'));
  const stack = await launchStack({
    ports: 'ephemeral',
    output: { dir: join(dir, 'logs') },
    ...options,
    env: {
      DATABASE_PATH: join(dir, 'data.db'),
      DEMO_API_KEY: DEMO_KEY,
      LOG_LEVEL: 'warn',
      ...options.env,
    },
  });
  return Object.assign(stack, {
    dir,
    async dispose() {
      await stack.stop();
      if (!process.env.KEEP_TEST_LOGS) rmSync(dir, { recursive: true, force: true });
    },
  });
}
