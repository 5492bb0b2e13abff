import type { ASTVisitor, ValidationContext, ValidationRule } from 'graphql';
import { ErrorCode, operationLimitExceeded } from '../../lib/errors.ts';
import { createSelectionCounter } from './countSelections.ts';

/** Refuses an operation with more than `maxAliases` aliases (fragments expanded): MAX_ALIASES_LIMIT. */
export function maxAliasesRule(maxAliases: number): ValidationRule {
  // Named: yoga's validation cache keys on the rules' names.
  return function MaxAliasesRule(context: ValidationContext): ASTVisitor {
    const count = createSelectionCounter(context, (field) => (field.alias ? 1 : 0));
    return {
      OperationDefinition(node) {
        const aliases = count(node.selectionSet);
        if (aliases <= maxAliases) return;
        context.reportError(
          operationLimitExceeded(ErrorCode.MAX_ALIASES_LIMIT, `The operation has ${aliases} aliases; at most ${maxAliases} are allowed.`, { limit: maxAliases, actual: aliases }, node),
        );
      },
    };
  };
}
