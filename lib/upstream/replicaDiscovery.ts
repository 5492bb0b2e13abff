import { lookup as dnsLookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import type { ReplicaPool } from './replicaPool.ts';

/** Resolves a host name to all of its addresses. Injected in tests. */
export type Lookup = (host: string) => Promise<string[]>;

const defaultLookup: Lookup = async (host) => (await dnsLookup(host, { all: true })).map((a) => a.address);

/** `dns+http://orders.default.svc:4131/graphql` names every address of a DNS name as one replica. */
export const DNS_SCHEME = 'dns+';

/**
 * Expands configured replica URLs: a plain URL is one replica; a `dns+` URL becomes one URL per
 * address its host resolves to (a Kubernetes headless service lists every pod this way). A name that
 * does not resolve contributes nothing rather than failing the rest.
 */
export async function expandReplicaUrls(urls: string[], lookup: Lookup = defaultLookup): Promise<string[]> {
  const expanded = await Promise.all(
    urls.map(async (raw) => {
      if (!raw.startsWith(DNS_SCHEME)) return [raw];
      const url = new URL(raw.slice(DNS_SCHEME.length));
      if (isIP(url.hostname.replace(/^\[|\]$/g, ''))) return [url.toString()];
      try {
        const addresses = [...new Set(await lookup(url.hostname))].sort();
        return addresses.map((address) => {
          const replica = new URL(url);
          replica.hostname = isIP(address) === 6 ? `[${address}]` : address;
          return replica.toString();
        });
      } catch {
        return [];
      }
    }),
  );
  return [...new Set(expanded.flat())];
}

/** True when any configured URL needs DNS resolution. */
export function needsDiscovery(urls: string[]): boolean {
  return urls.some((u) => u.startsWith(DNS_SCHEME));
}

/** Re-resolves `dns+` URLs every `refreshMs` and hands the result to the pool (state of kept replicas stays). */
export function startReplicaDiscovery(
  pool: ReplicaPool,
  urls: string[],
  options: { refreshMs: number; lookup?: Lookup },
): { refresh(): Promise<void>; close(): void } {
  let closed = false;
  async function refresh() {
    const resolved = await expandReplicaUrls(urls, options.lookup);
    if (!closed && resolved.length > 0) pool.setUrls(resolved);
  }
  const timer = setInterval(() => void refresh(), options.refreshMs);
  timer.unref();
  return {
    refresh,
    close() {
      closed = true;
      clearInterval(timer);
    },
  };
}
