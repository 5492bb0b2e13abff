import { Kind, OperationTypeNode, getOperationAST, type DocumentNode, type FragmentDefinitionNode } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import type { ApiKeyRevocations } from '../apiKeyRevocations.ts';
import { collectRootFields } from '../collectRootFields.ts';
import type { RouterContext } from '../routerContext.ts';

export interface ApiKeyRevocationOptions {
  revocations: Pick<ApiKeyRevocations, 'revoked'>;
  /** The mutation that revokes a key. @default "revokeApiKey" */
  fieldName?: string;
}

/**
 * After a mutation that revokes an API key has run, drops the caller's cached keys at this router
 * and tells the others (ApiKeyRevocations). Only the key's owner can revoke it, so the caller's
 * user is the one whose keys changed. It waits for the mutation's answer: forgetting earlier would
 * let a concurrent request cache the key again before the auth subgraph deleted it.
 */
export function useApiKeyRevocation({ revocations, fieldName = 'revokeApiKey' }: ApiKeyRevocationOptions): Plugin<RouterContext> {
  return {
    onExecute({ args }) {
      const document = args.document as DocumentNode;
      const operation = getOperationAST(document, args.operationName);
      if (operation?.operation !== OperationTypeNode.MUTATION) return;
      const userId = (args.contextValue as RouterContext).principal?.userId;
      if (!userId) return;
      const fragments = new Map(
        document.definitions
          .filter((d): d is FragmentDefinitionNode => d.kind === Kind.FRAGMENT_DEFINITION)
          .map((d) => [d.name.value, d]),
      );
      const variables = (args.variableValues ?? {}) as Record<string, unknown>;
      if (!collectRootFields(operation.selectionSet, fragments, variables).some((f) => f.fieldName === fieldName)) return;
      return {
        onExecuteDone() {
          // Whether it succeeded or not: a needless forget costs one lookup, a missed one a live revoked key.
          void revocations.revoked(userId);
        },
      };
    },
  };
}
