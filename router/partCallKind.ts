import { Kind, type OperationTypeNode } from 'graphql';
import { carriesIdempotencyKeys, idempotencyKeyArguments } from '../lib/upstream/idempotentWrites.ts';
import type { CallKind } from '../lib/upstream/upstreamClient.ts';
import type { RoutingTable } from './routingTable.ts';
import type { SubOperation } from './splitOperation.ts';

/** The router's public schema names its root types so (routingTable.ts). */
const ROOT_TYPE = { mutation: 'Mutation', subscription: 'Subscription' } as const;

/**
 * What one part may be sent to a second gateway instance after: a query after any transport
 * failure; a mutation, or a subscription's first opening (it may start work, such as a chat
 * answer), only when it never reached the first instance, unless every root field of the part is
 * declared `@idempotent` and the request carries each one's key.
 */
export function partCallKind(part: Pick<SubOperation, 'document' | 'variables'>, operationType: OperationTypeNode | `${OperationTypeNode}`, routingTable: RoutingTable): CallKind {
  if (operationType === 'query') return 'query';
  const operation = part.document.definitions.find((d) => d.kind === Kind.OPERATION_DEFINITION);
  const keys = operation && idempotencyKeyArguments(operation, ROOT_TYPE[operationType], routingTable.idempotentWrites);
  return keys && carriesIdempotencyKeys(keys, part.variables) ? 'idempotent' : 'write';
}
