import { Cluster, Redis, type RedisOptions } from 'ioredis';

/** A connection to one Redis, a Sentinel-watched primary, or a Cluster: the commands we use work on all three. */
export type RedisClient = Redis | Cluster;

interface HostPort {
  host: string;
  port: number;
}

/** Where REDIS_URL points. */
export type RedisTarget =
  | { kind: 'single'; url: string }
  | { kind: 'sentinel'; sentinels: HostPort[]; name: string; username?: string; password?: string; sentinelPassword?: string; db?: number }
  | { kind: 'cluster'; nodes: HostPort[]; username?: string; password?: string };

/** What REDIS_URL may look like, for error messages and the README. */
export const REDIS_URL_FORMS =
  'redis://[user:password@]host:port[/db], rediss://… (TLS), redis-sentinel://[user:password@]host:port[,host:port…]/<primary name>[?db=N&sentinelPassword=…] or redis-cluster://[user:password@]host:port[,host:port…]';

const MULTI_HOST = /^(redis-sentinel|redis-cluster):\/\/(?:([^:@/]*)(?::([^@/]*))?@)?([^/?#]+)(?:\/([^?#]*))?(?:\?([^#]*))?$/;

function hostPorts(list: string, defaultPort: number): HostPort[] {
  return list.split(',').map((entry) => {
    const match = /^(?:\[([^\]]+)\]|([^:[\]]+))(?::(\d{1,5}))?$/.exec(entry.trim());
    if (!match) throw new Error(`"${entry}" is not host:port`);
    const port = match[3] === undefined ? defaultPort : Number(match[3]);
    if (port < 1 || port > 65_535) throw new Error(`port ${port} is out of range`);
    return { host: match[1] ?? match[2], port };
  });
}

const decoded = (value: string | undefined) => (value ? decodeURIComponent(value) : undefined);

/**
 * Reads REDIS_URL. The two multi-host schemes are ours (no standard names a Sentinel set or a
 * Cluster in one URL): every host after `//` is a seed, comma-separated; a Sentinel URL's path is
 * the name of the primary the sentinels watch. Throws with a message naming the accepted forms.
 */
export function parseRedisUrl(url: string): RedisTarget {
  if (/^rediss?:\/\//.test(url)) {
    new URL(url); // throws on a malformed one
    return { kind: 'single', url };
  }
  const match = MULTI_HOST.exec(url);
  if (!match) throw new Error(`must be one of ${REDIS_URL_FORMS}`);
  const [, scheme, user, password, hosts, path = '', query = ''] = match;
  const credentials = { username: decoded(user), password: decoded(password) };
  if (scheme === 'redis-cluster') {
    if (path) throw new Error('a redis-cluster:// URL has no path (a Cluster has database 0 only)');
    return { kind: 'cluster', nodes: hostPorts(hosts, 6379), ...credentials };
  }
  const name = decoded(path.replace(/\/$/, ''));
  if (!name) throw new Error('a redis-sentinel:// URL names the primary as its path, e.g. redis-sentinel://s1:26379,s2:26379/mymaster');
  const params = new URLSearchParams(query);
  const db = params.get('db');
  if (db !== null && !/^\d+$/.test(db)) throw new Error(`db must be a number, got "${db}"`);
  return {
    kind: 'sentinel', sentinels: hostPorts(hosts, 26379), name, ...credentials,
    sentinelPassword: params.get('sentinelPassword') ?? undefined, db: db === null ? undefined : Number(db),
  };
}

/** The connection settings our clients tune; the same meaning whatever REDIS_URL names. */
export type RedisClientOptions = Pick<
  RedisOptions,
  'keyPrefix' | 'commandTimeout' | 'connectTimeout' | 'enableOfflineQueue' | 'maxRetriesPerRequest' | 'retryStrategy' | 'lazyConnect'
>;

/**
 * Connects to what REDIS_URL names. On a Cluster, every command we send touches one key (or keys
 * sharing a hash tag), scripts declare their one key, and pub/sub is the classic kind that every
 * node relays, so the same code runs on one node, behind Sentinel, or sharded.
 */
export function connectRedis(url: string, options: RedisClientOptions = {}): RedisClient {
  const target = parseRedisUrl(url);
  if (target.kind === 'single') return new Redis(url, options);
  if (target.kind === 'sentinel') {
    const { sentinels, name, username, password, sentinelPassword, db } = target;
    return new Redis({ ...options, sentinels, name, username, password, sentinelPassword, db, sentinelRetryStrategy: options.retryStrategy ?? undefined });
  }
  const { keyPrefix, enableOfflineQueue, retryStrategy, lazyConnect, ...perNode } = options;
  return new Cluster(target.nodes, {
    keyPrefix,
    enableOfflineQueue,
    lazyConnect,
    clusterRetryStrategy: retryStrategy,
    // The nodes announce the addresses they were started with; a node that is unreachable for a
    // moment is found again through the slots refresh, with the client's own timeouts.
    redisOptions: { ...perNode, username: target.username, password: target.password },
  });
}
