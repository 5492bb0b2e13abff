import { createHash } from 'node:crypto';
import type { PromptMessage } from '../chatTokens.ts';

/** A complete answer as the prompt cache keeps it. */
export interface CachedAnswer {
  content: string;
  completionTokens: number;
}

/**
 * Steps 6 and 10 of the chat flow: answers by model and exact request (context and prompt). Lookups
 * never fail a chat: a cache in trouble answers "miss" and drops writes.
 */
export interface PromptCache {
  readonly kind: 'redis' | 'store';
  get(key: string): Promise<CachedAnswer | undefined>;
  set(key: string, answer: CachedAnswer, ttlSeconds: number): Promise<void>;
}

/** The cache key of a request: the same model asked the same messages gets the same key. */
export function promptCacheKey(modelId: string, messages: readonly PromptMessage[]): string {
  const hash = createHash('sha256').update(JSON.stringify([modelId, messages.map((m) => [m.role, m.content])])).digest('hex');
  return `${modelId}:${hash}`;
}
