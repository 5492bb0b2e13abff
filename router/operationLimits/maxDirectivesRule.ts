import type { ASTVisitor, FieldNode, FragmentSpreadNode, InlineFragmentNode, ValidationContext, ValidationRule } from 'graphql';
import { ErrorCode, operationLimitExceeded } from '../../lib/errors.ts';

/**
 * Refuses a field, fragment spread or inline fragment carrying more than `maxDirectives`
 * directives: MAX_DIRECTIVES_LIMIT, reported once per document (a directive bomb would otherwise
 * bring one error per node).
 */
export function maxDirectivesRule(maxDirectives: number): ValidationRule {
  return function MaxDirectivesRule(context: ValidationContext): ASTVisitor {
    let reported = false;
    const check = (node: FieldNode | FragmentSpreadNode | InlineFragmentNode) => {
      const count = node.directives?.length ?? 0;
      if (reported || count <= maxDirectives) return;
      reported = true;
      context.reportError(
        operationLimitExceeded(ErrorCode.MAX_DIRECTIVES_LIMIT, `A selection carries ${count} directives; at most ${maxDirectives} are allowed.`, { limit: maxDirectives, actual: count }, node),
      );
    };
    return { Field: check, FragmentSpread: check, InlineFragment: check };
  };
}
