import { createHash } from 'node:crypto';
import type { ApolloGateway } from '@apollo/gateway';
import type { GatewayGraphQLRequestContext } from '@apollo/server-gateway-interface';
import { getOperationAST, print, type DocumentNode, type ExecutionArgs, type ExecutionResult } from 'graphql';
import type { Logger } from 'pino';
import type { GatewayContext } from './gatewayContext.ts';

/** The gateway needs a cache object in its request context but never uses it for execution. */
const NO_CACHE = { get: async () => undefined, set: async () => {}, delete: async () => {} };

/**
 * Runs a validated operation through @apollo/gateway's query planner and plan executor: the server
 * parses and validates (cached per document), the gateway plans (cached per operation) and fetches.
 * The same idea as The Guild's `@envelop/apollo-federation`, with our context and no shared mutable
 * cache policy across requests. One loaded gateway's planner and executor; hot reload keeps one per
 * supergraph generation.
 */
export function createApolloExecute(gateway: ApolloGateway, logger: Logger): (args: ExecutionArgs) => Promise<ExecutionResult> {
  // The server's document cache hands back the same DocumentNode for the same text, so each is printed and hashed once.
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
    if (!operation) throw new Error('the server validated an operation the gateway cannot find');
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
