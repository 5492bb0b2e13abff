import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import type { Database } from '../../store/tables.ts';
import type { CachedAnswer, PromptCache } from './promptCache.ts';

/** The prompt cache in the shared store (table prompt_cache), for deployments without Redis. */
export class StorePromptCache implements PromptCache {
  readonly kind = 'store' as const;

  constructor(
    private readonly db: Kysely<Database>,
    private readonly now: () => number = Date.now,
    private readonly logger?: Logger,
  ) {}

  async get(key: string): Promise<CachedAnswer | undefined> {
    try {
      const row = await this.db.selectFrom('prompt_cache').select('value').where('key', '=', key).where('expires_at', '>', this.now()).executeTakeFirst();
      return row ? (JSON.parse(row.value) as CachedAnswer) : undefined;
    } catch (error) {
      this.logger?.warn({ err: error }, 'prompt cache lookup failed; answering without it');
      return undefined;
    }
  }

  async set(key: string, answer: CachedAnswer, ttlSeconds: number): Promise<void> {
    const values = { key, value: JSON.stringify(answer), expires_at: this.now() + ttlSeconds * 1000 };
    try {
      await this.db.insertInto('prompt_cache').values(values).onConflict((oc) => oc.column('key').doUpdateSet({ value: values.value, expires_at: values.expires_at })).execute();
    } catch (error) {
      this.logger?.warn({ err: error }, 'prompt cache write failed');
    }
  }

  /** Drops expired answers; returns how many. */
  async expire(): Promise<number> {
    const result = await this.db.deleteFrom('prompt_cache').where('expires_at', '<=', this.now()).executeTakeFirst();
    return Number(result.numDeletedRows);
  }
}
