import { createHash } from 'node:crypto';
import type { ApolloGateway } from '@apollo/gateway';
import type { GatewayGraphQLRequestContext } from '@apollo/server-gateway-interface';
import { getOperationAST, print, type DocumentNode, type ExecutionArgs, type ExecutionResult } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import type { Logger } from 'pino';
import type { GatewayContext } from './gatewayContext.ts';

export interface ApolloGatewayPluginOptions {
  /** A loaded gateway (`await gateway.load()`); its API schema is what yoga validates against. */
  gateway: ApolloGateway;
  logger: Logger;
  /** Runs subscription operations (stock @apollo/gateway cannot); see executeSubscription.ts. */
  subscribe: (args: ExecutionArgs) => Promise<AsyncIterable<ExecutionResult> | ExecutionResult>;
}

/** The gateway needs a cache object in its request context but never uses it for execution. */
const NO_CACHE = { get: async () => undefined, set: async () => {}, delete: async () => {} };

/**
 * Runs yoga's execution through @apollo/gateway's query planner and plan executor: yoga parses,
 * validates (cached per document) and serves HTTP, the gateway plans (cached per operation) and
 * fetches; subscriptions go to our own subscription-plan executor. The same idea as The Guild's `@envelop/apollo-federation`, with our context and no shared
 * mutable cache policy across requests.
 */
export function useApolloGateway({ gateway, logger, subscribe }: ApolloGatewayPluginOptions): Plugin<GatewayContext> {
  const execute = createApolloExecute(gateway, logger);
  return {
    onExecute({ setExecuteFn }) {
      setExecuteFn(execute);
    },
    onSubscribe({ setSubscribeFn }) {
      setSubscribeFn(subscribe);
    },
  };
}

/** The execute function behind useApolloGateway: one loaded gateway's planner and executor (hot reload keeps one per supergraph). */
export function createApolloExecute(gateway: ApolloGateway, logger: Logger): (args: ExecutionArgs) => Promise<ExecutionResult> {
  // Yoga's parse cache hands back the same DocumentNode for the same text, so each is printed and hashed once.
  const sources = new WeakMap<DocumentNode, { source: string; hash: string }>();
  const sourceOf = (document: DocumentNode) => {
    let entry = sources.get(document);
    if (!entry) {
      const source = print(document);
      sources.set(document, (entry = { source, hash: createHash('sha256').update(source).digest('hex') }));
    }
    return entry;
  };
  const apolloLogger = {
    debug: () => {},
    info: () => {},
    warn: (message: unknown) => logger.warn(String(message)),
    error: (message: unknown) => logger.error(String(message)),
  };

  const execute = (args: ExecutionArgs): Promise<ExecutionResult> => {
    const operation = getOperationAST(args.document, args.operationName);
    if (!operation) throw new Error('yoga validated an operation the gateway cannot find');
    const { source, hash } = sourceOf(args.document);
    const requestContext = {
      request: { query: source, operationName: args.operationName ?? undefined, variables: args.variableValues ?? undefined },
      document: args.document,
      source,
      queryHash: hash,
      operationName: args.operationName ?? null,
      operation,
      schema: args.schema,
      schemaHash: hash,
      context: args.contextValue as GatewayContext,
      logger: apolloLogger,
      metrics: {},
      cache: NO_CACHE,
      overallCachePolicy: undefined,
    } as unknown as GatewayGraphQLRequestContext<GatewayContext>;
    return gateway.executor(requestContext) as Promise<ExecutionResult>;
  };
  return execute;
}
