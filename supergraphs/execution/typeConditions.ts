import { isAbstractType, isInterfaceType, isObjectType, type GraphQLSchema } from 'graphql';

/**
 * Answers "is an object of type `typename` matched by the type condition `condition`?" against one
 * schema, each pair worked out once: plans and operations name few types, and requests ask the same
 * pairs again and again.
 */
export interface TypeConditions {
  /**
   * @apollo/gateway's `isObjectOfType` over the supergraph schema (entity representations, rewrites):
   * an object without `__typename` matches only when `whenUnknown` says so.
   */
  objectMatches(typename: unknown, condition: string, whenUnknown: boolean): boolean;
  /**
   * @apollo/gateway's result shaping over the API schema: a fragment applies when the object's
   * `__typename` (or, without one, its declared type `parentType`) is the condition or one of its subtypes.
   */
  fragmentApplies(condition: string, typename: string | undefined, parentType: string): boolean;
}

/** Type-condition checks over `schema`, memoised per (type, condition). */
export function typeConditionsOf(schema: GraphQLSchema): TypeConditions {
  const objectMemo = new Map<string, boolean>();
  const fragmentMemo = new Map<string, boolean>();
  // The same rule in both of Apollo's places: the condition names the type itself, or an abstract type
  // the type belongs to (a union member, an implementation of an interface).
  const isSubtype = (condition: string, typename: string): boolean => {
    if (condition === typename) return true;
    const type = schema.getType(typename);
    const conditional = schema.getType(condition);
    if (!type || !conditional || !isAbstractType(conditional)) return false;
    return (isObjectType(type) || isInterfaceType(type)) && schema.isSubType(conditional, type);
  };
  return {
    objectMatches(typename, condition, whenUnknown) {
      if (!typename) return whenUnknown;
      if (typename === condition) return true;
      const key = `${typename as string}\u0000${condition}`;
      let known = objectMemo.get(key);
      if (known === undefined) objectMemo.set(key, (known = isSubtype(condition, typename as string)));
      return known;
    },
    fragmentApplies(condition, typename, parentType) {
      const of = typename ?? parentType;
      if (of === condition) return true;
      const key = `${of}\u0000${condition}`;
      let known = fragmentMemo.get(key);
      if (known === undefined) {
        // A typename the API schema does not know (an @inaccessible type) matches nothing.
        known = schema.getType(of) !== undefined && isSubtype(condition, of);
        fragmentMemo.set(key, known);
      }
      return known;
    },
  };
}
