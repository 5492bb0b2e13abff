import { connectRedis } from '../lib/cache/connectRedis.ts';
import type { Logger } from 'pino';
import type { ApiKeyResolver } from './apiKeyResolver.ts';

/** Redis channel on which routers tell each other whose keys changed. */
export const API_KEY_REVOCATION_CHANNEL = 'sg:api-keys:revoked';

export interface ApiKeyRevocations {
  /**
   * A user's key was revoked: forget the user's cached keys here at once and tell every other
   * router. Never rejects; a lost message is bounded by the key cache's TTL.
   */
  revoked(userId: string): Promise<void>;
  /** Closes the Redis connections; idempotent. */
  close(): Promise<void>;
}

export interface ApiKeyRevocationsOptions {
  resolver: Pick<ApiKeyResolver, 'forgetUser'>;
  /** Redis shared by every router; without it a revocation reaches only this router. */
  redisUrl?: string;
  /** @default API_KEY_REVOCATION_CHANNEL */
  channel?: string;
  /** Deadline of a publish. @default 500 */
  commandTimeoutMs?: number;
  logger?: Logger;
}

/** User ids are short; anything else on the channel is not ours. */
const MAX_USER_ID_LENGTH = 256;

/**
 * Spreads revocations between router instances through Redis pub/sub (classic pub/sub: on a
 * Cluster every node relays a message to subscribers on any node). The message names the key's
 * user, not the key: the router that served `revokeApiKey(id)` never sees the secret or its hash,
 * and dropping every cached key of one user costs each router one lookup per key of that user.
 * Pub/sub keeps nothing for a router that is disconnected when a message goes out; the key cache's
 * short TTL bounds that case.
 */
export function createApiKeyRevocations(options: ApiKeyRevocationsOptions): ApiKeyRevocations {
  const { resolver, redisUrl, channel = API_KEY_REVOCATION_CHANNEL, commandTimeoutMs = 500, logger } = options;
  if (!redisUrl) {
    return {
      async revoked(userId) {
        resolver.forgetUser(userId);
      },
      async close() {},
    };
  }
  const retryStrategy = (times: number) => Math.min(100 * times, 2_000);
  // Publishing never waits for a connection: a revocation answered while Redis is down is local only.
  const publisher = connectRedis(redisUrl, { enableOfflineQueue: false, maxRetriesPerRequest: 0, commandTimeout: commandTimeoutMs, connectTimeout: 1_000, retryStrategy });
  // The subscription is queued until the first connection and renewed by ioredis after every reconnect.
  const subscriber = connectRedis(redisUrl, { connectTimeout: 1_000, retryStrategy, maxRetriesPerRequest: null });
  publisher.on('error', () => {});
  subscriber.on('error', (error) => logger?.debug({ err: error }, 'api key revocation subscriber: redis error'));
  subscriber.on('message', (from: string, message: string) => {
    if (from !== channel || !message || message.length > MAX_USER_ID_LENGTH) return;
    resolver.forgetUser(message);
  });
  subscriber.subscribe(channel).catch((error) => logger?.warn({ err: error }, 'could not subscribe to API key revocations'));

  let closing: Promise<void> | undefined;
  return {
    async revoked(userId) {
      resolver.forgetUser(userId);
      try {
        await publisher.publish(channel, userId);
      } catch (error) {
        logger?.warn({ err: error }, 'API key revocation not published: other routers keep the key until their cache TTL');
      }
    },
    close() {
      closing ??= (async () => {
        // A subscriber has nothing to flush, and quit() would wait for a Redis that may be down.
        subscriber.disconnect();
        try {
          await publisher.quit();
        } catch {
          publisher.disconnect();
        }
      })();
      return closing;
    },
  };
}
