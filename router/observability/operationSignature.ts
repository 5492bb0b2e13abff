import { createHash } from 'node:crypto';
import { usageReportingSignature } from '@apollo/utils.usagereporting';
import { Kind, print, separateOperations, stripIgnoredCharacters, visit, type DocumentNode } from 'graphql';

/** How one operation is known to the recorder and the schema check. */
export interface OperationIdentity {
  signature: string;
  /** The operation with its fragments, ready to validate against another schema. */
  document: string;
}

/**
 * The signature Apollo's usage reporting uses (literals hidden, aliases dropped, fields sorted), so
 * `user(id: 1)` and `user(id: 2)` are one operation, hashed to keep the record small. The document
 * kept for replay keeps aliases and literals (a replay must validate exactly as the client's did)
 * but blanks string literals, where personal data would sit; variables are never kept.
 */
export function identifyOperation(document: DocumentNode, operationName: string | null): OperationIdentity {
  const name = operationName ?? '';
  const own = name ? (separateOperations(document)[name] ?? document) : document;
  const signature = createHash('sha256').update(usageReportingSignature(own, name)).digest('hex');
  const blanked = visit(own, { [Kind.STRING]: (node) => ({ ...node, value: '', block: false }) });
  return { signature, document: stripIgnoredCharacters(print(blanked)) };
}
