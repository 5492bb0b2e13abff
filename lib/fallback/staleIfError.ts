import type { FallbackExtension } from '../errors.ts';
import type { FallbackCache } from './fallbackCache.ts';

/** What a failed upstream is answered with: its last good answer, a degraded answer, or nothing. */
export type FallbackPolicy = 'cache' | 'degraded' | 'none';

/** How a failed upstream call was answered, for metrics. */
export type FallbackAnswer = FallbackPolicy;

/** One call as stale-if-error sees it. */
export interface FallbackTarget {
  /** Cache namespace and policy key, e.g. `orders` (a subgraph) or `commerce` (a gateway). */
  upstream: string;
  query: string;
  /** The call's variables, serialised once. */
  variablesJson: string;
  isMutation: boolean;
  /** Declared public (cacheScopeOf): one shared entry; otherwise one per principal. */
  isPublic: boolean;
  /** The principal the answer belongs to; undefined is anonymous. */
  principalId: string | undefined;
}

/** What stands in for a failed call. */
export interface Recovered {
  data: unknown;
  fallback: FallbackExtension;
}

export interface StaleIfErrorOptions {
  cache: FallbackCache;
  /** Prefix of this tier's cache keys, so a subgraph and a supergraph of the same name never share entries. @default none */
  namespace?: string;
  policyOf(upstream: string): FallbackPolicy;
  /** Told how each failed call was answered. */
  onAnswer?(upstream: string, answer: FallbackAnswer): void;
}

/**
 * Stale-if-error for both tiers (the gateway's subgraph calls and the router's gateway calls): keeps
 * the last good answer of every query call, scoped to its principal unless public, and answers a
 * failed call from it, or degraded, or not at all, by the upstream's policy. Mutations are never
 * remembered nor stood in for: the client must know a write did not happen.
 */
export class StaleIfError {
  constructor(private readonly options: StaleIfErrorOptions) {}

  /** The cache key of a call, or undefined when its answers are not kept. */
  keyFor(target: FallbackTarget): string | undefined {
    if (target.isMutation || this.options.policyOf(target.upstream) !== 'cache') return undefined;
    const scope = target.isPublic ? ({ kind: 'public' } as const) : ({ kind: 'principal', id: target.principalId ?? 'anonymous' } as const);
    const upstream = this.options.namespace ? `${this.options.namespace}:${target.upstream}` : target.upstream;
    return this.options.cache.key(upstream, target.query, target.variablesJson, scope);
  }

  /** Keeps a complete answer (data and no errors). */
  remember(key: string | undefined, data: unknown, hasErrors: boolean): void {
    if (key && data && !hasErrors) this.options.cache.remember(key, data);
  }

  /** Keeps a clean answer (`{"data":…}` and nothing else) as its bytes. */
  rememberBody(key: string | undefined, cleanBody: string): void {
    if (key) this.options.cache.rememberBody(key, cleanBody);
  }

  /**
   * What answers a failed call: the remembered answer under `key`, else `degraded()` when the policy
   * says so (undefined when no degraded answer can be shaped), else undefined.
   */
  async recover(
    target: Pick<FallbackTarget, 'upstream' | 'isMutation'>,
    key: string | undefined,
    degraded?: { message: string; data(): unknown },
  ): Promise<Recovered | undefined> {
    const answered = (answer: FallbackAnswer) => this.options.onAnswer?.(target.upstream, answer);
    if (key) {
      const cached = await this.options.cache.recall(key);
      if (cached) {
        answered('cache');
        return cached;
      }
    }
    if (!target.isMutation && degraded && this.options.policyOf(target.upstream) === 'degraded') {
      const data = degraded.data();
      if (data !== undefined) {
        answered('degraded');
        return { data, fallback: { source: 'degraded', message: degraded.message } };
      }
    }
    answered('none');
    return undefined;
  }
}
