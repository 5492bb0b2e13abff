import type { ASTVisitor, ValidationContext, ValidationRule } from 'graphql';
import { ErrorCode, operationLimitExceeded } from '../../lib/errors.ts';
import { createSelectionCounter } from './countSelections.ts';

/** Refuses an operation selecting more than `maxRootFields` root fields (fragments expanded): MAX_ROOT_FIELDS_LIMIT. */
export function maxRootFieldsRule(maxRootFields: number): ValidationRule {
  return function MaxRootFieldsRule(context: ValidationContext): ASTVisitor {
    const count = createSelectionCounter(context, () => 1, false);
    return {
      OperationDefinition(node) {
        const fields = count(node.selectionSet);
        if (fields <= maxRootFields) return;
        context.reportError(
          operationLimitExceeded(ErrorCode.MAX_ROOT_FIELDS_LIMIT, `The operation selects ${fields} root fields; at most ${maxRootFields} are allowed.`, { limit: maxRootFields, actual: fields }, node),
        );
      },
    };
  };
}
