import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../../lib/config.ts';
import { parseRedisUrl } from '../../../lib/cache/connectRedis.ts';

describe('REDIS_URL forms', () => {
  it('keeps redis:// and rediss:// URLs as they are', () => {
    expect(parseRedisUrl('redis://127.0.0.1:6379/2')).toEqual({ kind: 'single', url: 'redis://127.0.0.1:6379/2' });
    expect(parseRedisUrl('rediss://:pw@cache.internal:6380')).toEqual({ kind: 'single', url: 'rediss://:pw@cache.internal:6380' });
  });

  it('reads a Sentinel set: seeds, the primary name, credentials, db and the sentinels’ own password', () => {
    expect(parseRedisUrl('redis-sentinel://app:p%40ss@s1:26379,s2,[::1]:26380/mymaster?db=3&sentinelPassword=sp')).toEqual({
      kind: 'sentinel',
      sentinels: [{ host: 's1', port: 26379 }, { host: 's2', port: 26379 }, { host: '::1', port: 26380 }],
      name: 'mymaster', username: 'app', password: 'p@ss', sentinelPassword: 'sp', db: 3,
    });
  });

  it('reads a Cluster: every seed node, credentials', () => {
    expect(parseRedisUrl('redis-cluster://:secret@10.0.0.1:7000,10.0.0.2:7001,redis-2.redis.svc')).toEqual({
      kind: 'cluster',
      nodes: [{ host: '10.0.0.1', port: 7000 }, { host: '10.0.0.2', port: 7001 }, { host: 'redis-2.redis.svc', port: 6379 }],
      username: undefined, password: 'secret',
    });
  });

  it('refuses what it cannot connect to, and the config names REDIS_URL', () => {
    expect(() => parseRedisUrl('redis-sentinel://s1:26379')).toThrow(/names the primary/);
    expect(() => parseRedisUrl('redis-cluster://n1:7000/0')).toThrow(/no path/);
    expect(() => parseRedisUrl('redis-cluster://n1:99999')).toThrow(/out of range/);
    expect(() => parseRedisUrl('redis-sentinel://s1/m?db=x')).toThrow(/db must be a number/);
    expect(() => parseRedisUrl('memcached://x:11211')).toThrow(/redis-cluster:\/\//);
    expect(() => loadConfig({ REDIS_URL: 'redis-cluster://' })).toThrow(/cache\.redisUrl \(REDIS_URL\)/);
    expect(loadConfig({ REDIS_URL: 'redis-cluster://127.0.0.1:7000,127.0.0.1:7001' }).cache.redisUrl).toBe('redis-cluster://127.0.0.1:7000,127.0.0.1:7001');
  });
});
