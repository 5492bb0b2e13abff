import type { ExecutionArgs, ExecutionResult } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import type { Logger } from 'pino';
import { isPublicError, maskedError } from '../lib/errors.ts';

/**
 * Answers an operation whose planning or plan execution throws (a query planner that cannot plan it,
 * an executor bug) as that operation's own failure: `data: null` and the masked INTERNAL_SERVER_ERROR,
 * HTTP 200, the error logged here. Thrown, it became yoga's masked HTTP 500, which the router counts
 * against the gateway's health: it fails the same on every replica, yet five in a row opened the
 * router's breaker for the supergraph and every client's answers with it (the federation audit's
 * corrupted-supergraph-node-id suite, through the router). Subgraph failures never throw here; the
 * data source answers them as partial data. Goes after the plugin that sets the executor.
 */
export function useOperationFailureAnswer({ logger }: { logger: Logger }): Plugin {
  return {
    onExecute({ executeFn, setExecuteFn }) {
      const execute = executeFn as (args: ExecutionArgs) => ExecutionResult | Promise<ExecutionResult>;
      setExecuteFn(async (args: ExecutionArgs) => {
        try {
          return await execute(args);
        } catch (error) {
          // Ours to say (a coded GraphQLError): yoga answers it as it stands.
          if (isPublicError(error as { extensions?: Record<string, unknown> })) throw error;
          logger.error({ err: error, operation: args.operationName ?? undefined }, 'the operation failed in planning or execution; answered as its own error');
          return { data: null, errors: [maskedError()] };
        }
      });
    },
  };
}
