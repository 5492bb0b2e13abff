import type { StackOptions } from '../../scripts/launchStack.ts';
import { launchScratchStack, type ScratchStack } from '../../scripts/launchScratchStack.ts';

export const DEMO_KEY = 'test-demo-key-0123456789';

export type TestStack = ScratchStack;

/** The whole stack on free ports with its own SQLite file (`dir/data.db`) and logs; demo key DEMO_KEY. */
export function startTestStack(options: StackOptions = {}): Promise<TestStack> {
  return launchScratchStack({ ...options, demoApiKey: DEMO_KEY });
}
