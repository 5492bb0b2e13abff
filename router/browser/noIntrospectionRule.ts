import { getNamedType, isIntrospectionType, type ASTVisitor, type ValidationContext, type ValidationRule } from 'graphql';
import { introspectionDisabled } from '../../lib/errors.ts';

/**
 * graphql-js's NoSchemaIntrospectionCustomRule with this platform's error code and status: refuses
 * `__schema` and `__type` (400 GRAPHQL_VALIDATION_FAILED) as a validation rule, so the router's
 * validation cache pays for it once per document; `__typename` stays allowed. The router adds it in
 * production unless introspection is enabled by config.
 */
export function NoIntrospectionRule(context: ValidationContext): ASTVisitor {
  return {
    Field(node) {
      const type = getNamedType(context.getType());
      if (type && isIntrospectionType(type)) context.reportError(introspectionDisabled(node));
    },
  };
}
NoIntrospectionRule satisfies ValidationRule;
