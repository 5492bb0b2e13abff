import type { ApiKeyRevocations } from '../apiKeyRevocations.ts';
import { collectRootFields } from '../collectRootFields.ts';
import { analyseOperation } from '../operationAnalysis.ts';
import type { RoutingTable } from '../routingTable.ts';
import type { EdgeStage } from './edgeRequest.ts';

export interface RevocationStageOptions {
  revocations: Pick<ApiKeyRevocations, 'revoked'>;
  routingTable: RoutingTable;
  /** The mutation that revokes a key. @default "revokeApiKey" */
  fieldName?: string;
}

/**
 * After a mutation that revokes an API key has run, drops the caller's cached keys at this router
 * and tells the others (ApiKeyRevocations). Only the key's owner can revoke it, so the caller's
 * user is the one whose keys changed. It waits for the mutation's answer: forgetting earlier would
 * let a concurrent request cache the key again before the auth subgraph deleted it; and whether it
 * succeeded or not, a needless forget costs one lookup, a missed one a live revoked key.
 */
export function createRevocationStage({ revocations, routingTable, fieldName = 'revokeApiKey' }: RevocationStageOptions): EdgeStage {
  return (request) => {
    const userId = request.principal.userId;
    if (request.operation?.operation !== 'mutation' || !userId) return undefined;
    const analysis = analyseOperation(routingTable, request.document!, request.params.operationName);
    const roots = collectRootFields(analysis.operation.selectionSet, analysis.fragments, request.params.variables ?? {});
    if (roots.some((f) => f.fieldName === fieldName)) request.after(() => void revocations.revoked(userId));
    return undefined;
  };
}
