import { RemoteGraphQLDataSource, type GraphQLDataSourceProcessOptions } from '@apollo/gateway';
import type { GatewayGraphQLResponse } from '@apollo/server-gateway-interface';
import type { GraphQLSchema } from 'graphql';
import type { FallbackCache, FallbackExtension, CacheScope } from '../lib/fallback/fallbackCache.ts';
import type { FallbackPolicy } from '../lib/config.ts';
import { downstreamError } from '../lib/errors.ts';
import { PRINCIPAL_HEADER, type Principal } from '../lib/principal.ts';
import { requestScope } from './requestScope.ts';
import { UpstreamError, type UpstreamClient } from '../lib/upstream/upstreamClient.ts';
import { degradedData } from './degradedData.ts';
import { fetchShape, type FetchShape } from './fetchShape.ts';

/** What the gateway's HTTP handler puts in each request's context. */
export interface GatewayContext {
  /** The router-signed principal, forwarded untouched: subgraphs verify it themselves. */
  principalToken?: string;
  /** The same principal, verified here; it scopes the fallback cache. */
  principal?: Principal;
}

export interface ReplicaDataSourceOptions {
  serviceName: string;
  client: UpstreamClient;
  /** What a failed call is answered with. */
  policy: FallbackPolicy;
  fallbackCache: FallbackCache;
  /** The subgraph's own schema, to shape degraded answers; built only when one is needed. */
  subgraphSchema: () => GraphQLSchema;
  publicRootFields: ReadonlySet<string>;
  publicEntityTypes: ReadonlySet<string>;
  /** Told how each failed call was answered (metrics). */
  onFailure?: (answer: 'cache' | 'degraded' | 'none') => void;
}

/**
 * The gateway's data source for one subgraph: every call goes to one replica of the subgraph's pool
 * (through the injected fetcher). A failed call is answered by the subgraph's fallback policy — the
 * last good answer for this principal, a degraded empty answer, or nothing — with masked errors on
 * the fields it should have filled, so the gateway still returns everything else.
 */
export class ReplicaDataSource extends RemoteGraphQLDataSource<GatewayContext> {
  private readonly options: ReplicaDataSourceOptions;

  constructor(options: ReplicaDataSourceOptions) {
    super({ url: `replica-pool://${options.serviceName}` });
    this.options = options;
    this.fetcher = async (_url, init) => {
      const body = String(init?.body ?? '');
      const response = await options.client.post(body, {
        headers: (init?.headers ?? {}) as Record<string, string>,
        signal: requestScope.getStore()?.signal,
        idempotent: !/"query":"\s*mutation\b/.test(body),
      });
      return new Response(response.body, {
        status: response.status,
        headers: { 'content-type': response.contentType ?? 'application/json' },
      }) as never;
    };
  }

  override willSendRequest({ request, context }: GraphQLDataSourceProcessOptions<GatewayContext>): void {
    if (context.principalToken) request.http?.headers.set(PRINCIPAL_HEADER, context.principalToken);
  }

  override async process(options: GraphQLDataSourceProcessOptions<GatewayContext>): Promise<GatewayGraphQLResponse> {
    const { serviceName, policy, fallbackCache } = this.options;
    const shape = fetchShape(options.request.query);
    // Mutations are never served from cache nor degraded: the client must know it did not happen.
    const cacheKey =
      !shape.isMutation && policy === 'cache'
        ? fallbackCache.key(serviceName, options.request.query ?? '', options.request.variables, this.scopeOf(shape, options))
        : undefined;
    try {
      const response = await super.process(options);
      if (cacheKey && response.data && !response.errors?.length) fallbackCache.remember(cacheKey, response.data);
      return response;
    } catch (error) {
      const reason = error instanceof UpstreamError ? error.reason : 'bad_response';
      const attempts = error instanceof UpstreamError ? error.attempts : 1;
      const errors = (fallback?: FallbackExtension) =>
        failurePaths(shape, options).map((path) => {
          const entry = downstreamError(serviceName, reason, attempts, path);
          return fallback ? { ...entry, extensions: { ...entry.extensions, fallback } } : entry;
        });
      if (cacheKey) {
        const cached = await fallbackCache.recall(cacheKey);
        if (cached) {
          this.options.onFailure?.('cache');
          return { data: cached.data, errors: errors(cached.fallback) } as GatewayGraphQLResponse;
        }
      }
      if (!shape.isMutation && policy === 'degraded' && shape.document) {
        const data = degradedData(this.options.subgraphSchema(), shape.document);
        if (data) {
          const message = `The ${serviceName} service is unavailable; an empty answer stands in for its fields.`;
          this.options.onFailure?.('degraded');
          return { data, errors: errors({ source: 'degraded', message }) } as GatewayGraphQLResponse;
        }
      }
      this.options.onFailure?.('none');
      return { data: null, errors: errors() } as GatewayGraphQLResponse;
    }
  }

  /** Public data is shared by everyone; anything else is keyed to the principal (or to anonymous). */
  private scopeOf(shape: FetchShape, options: GraphQLDataSourceProcessOptions<GatewayContext>): CacheScope {
    const { publicRootFields, publicEntityTypes } = this.options;
    const representations = options.request.variables?.representations;
    const isPublic = shape.isEntities
      ? Array.isArray(representations) &&
        representations.every((r) => publicEntityTypes.has((r as { __typename?: string })?.__typename ?? ''))
      : shape.rootFieldNames.length > 0 && shape.rootFieldNames.every((f) => publicRootFields.has(f));
    if (isPublic) return { kind: 'public' };
    return { kind: 'principal', id: options.context.principal?.userId ?? 'anonymous' };
  }
}

/**
 * Paths the failed fetch would have filled: one per entity for an `_entities` fetch (the gateway maps
 * them back to where the entities sit in the response), else one per root field.
 */
function failurePaths(shape: FetchShape, options: GraphQLDataSourceProcessOptions<GatewayContext>): Array<Array<string | number> | undefined> {
  const representations = options.request.variables?.representations;
  if (shape.isEntities && Array.isArray(representations)) return representations.map((_, i) => ['_entities', i]);
  return shape.rootKeys.length ? shape.rootKeys.map((key) => [key]) : [undefined];
}
