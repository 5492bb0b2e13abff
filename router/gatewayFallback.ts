import type { FallbackCache } from '../lib/fallback/fallbackCache.ts';
import type { FallbackPolicy } from '../lib/config.ts';
import { supergraphUnavailable, type FailureReason } from '../lib/errors.ts';
import type { Principal } from '../lib/principal.ts';
import type { SupergraphName } from '../lib/topology.ts';
import type { GatewayResult } from './mergeResults.ts';

export interface GatewayFallbackOptions {
  cache: FallbackCache;
  /** Per supergraph: the last good answer, a degraded null with a message, or nothing. */
  policies: Readonly<Record<SupergraphName, FallbackPolicy>>;
  /** Root fields whose answers are the same for everyone. */
  publicRootFields: ReadonlySet<string>;
  /** Told how each failed part was answered (metrics). */
  onFailure?: (supergraph: SupergraphName, answer: 'cache' | 'degraded' | 'none') => void;
}

/** One sub-operation as the fallback sees it. */
export interface FallbackTarget {
  supergraph: SupergraphName;
  query: string;
  variables: Record<string, unknown>;
  responseKeys: readonly string[];
  fieldNames: readonly string[];
}

/**
 * Stale-if-error for whole gateways, at the router: every good answer to a query part is kept
 * (keyed by supergraph, operation, variables and principal — or shared, when every root field is
 * public), and when the gateway fails the part is answered from it, each field reporting
 * `SUPERGRAPH_UNAVAILABLE` with `fallback: { source: "cache", cachedAt, ageMs }`.
 */
export class GatewayFallback {
  constructor(private readonly options: GatewayFallbackOptions) {}

  /** The cache key of a query part, or undefined when the part may not be cached (mutations, policy). */
  keyFor(target: FallbackTarget, principal: Principal | undefined, isMutation: boolean): string | undefined {
    if (isMutation || this.options.policies[target.supergraph] !== 'cache') return undefined;
    const isPublic = target.fieldNames.length > 0 && target.fieldNames.every((f) => this.options.publicRootFields.has(f));
    const scope = isPublic ? ({ kind: 'public' } as const) : ({ kind: 'principal', id: principal?.userId ?? 'anonymous' } as const);
    return this.options.cache.key(`gateway:${target.supergraph}`, target.query, target.variables, scope);
  }

  /** Keeps a good answer (complete data, no errors). */
  remember(key: string | undefined, result: GatewayResult): void {
    if (key && result.data && !result.errors?.length) this.options.cache.remember(key, result.data);
  }

  /** What to answer in place of a failed part, or undefined to let it fail plainly. */
  async recover(
    target: FallbackTarget,
    key: string | undefined,
    failure: { reason: FailureReason; attempts: number },
    isMutation: boolean,
  ): Promise<GatewayResult | undefined> {
    const errors = (fallback: Record<string, unknown>) =>
      target.responseKeys.map((responseKey) => {
        const error = supergraphUnavailable(target.supergraph, [responseKey], failure.reason, failure.attempts).toJSON();
        return { ...error, extensions: { ...error.extensions, fallback } };
      });
    if (key) {
      const cached = await this.options.cache.recall(key);
      if (cached) {
        this.options.onFailure?.(target.supergraph, 'cache');
        return { data: cached.data as Record<string, unknown>, errors: errors(cached.fallback) };
      }
    }
    if (!isMutation && this.options.policies[target.supergraph] === 'degraded') {
      this.options.onFailure?.(target.supergraph, 'degraded');
      const message = `The ${target.supergraph} supergraph is unavailable; its fields are empty for now.`;
      return { data: null, errors: errors({ source: 'degraded', message }) };
    }
    this.options.onFailure?.(target.supergraph, 'none');
    return undefined;
  }
}
