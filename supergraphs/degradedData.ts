import {
  Kind,
  getNamedType,
  isAbstractType,
  isEnumType,
  isListType,
  isNonNullType,
  isObjectType,
  type DocumentNode,
  type FragmentDefinitionNode,
  type GraphQLObjectType,
  type GraphQLOutputType,
  type GraphQLSchema,
  type OperationDefinitionNode,
  type SelectionSetNode,
} from 'graphql';

/**
 * The "degraded" stand-in for a failed fetch: the emptiest answer the schema allows for what was
 * asked. Nullable fields are null, lists are empty, a non-null object is built from its selected
 * fields, a non-null scalar is its zero. `myOrders` thus answers an empty page instead of nothing.
 * Entity fetches get no stand-in (the entities stay as the other subgraphs left them).
 */
export function degradedData(schema: GraphQLSchema, document: DocumentNode): Record<string, unknown> | null {
  const operation = document.definitions.find((d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION);
  if (!operation || operation.operation !== 'query') return null;
  const fragments = new Map(
    document.definitions
      .filter((d): d is FragmentDefinitionNode => d.kind === Kind.FRAGMENT_DEFINITION)
      .map((d) => [d.name.value, d]),
  );
  const root = schema.getQueryType();
  if (!root) return null;
  if (hasField(operation.selectionSet, '_entities')) return null;
  return emptyObject(root, operation.selectionSet, fragments, schema);
}

function hasField(selectionSet: SelectionSetNode, name: string): boolean {
  return selectionSet.selections.some((s) => s.kind === Kind.FIELD && s.name.value === name);
}

function emptyObject(
  type: GraphQLObjectType,
  selectionSet: SelectionSetNode,
  fragments: Map<string, FragmentDefinitionNode>,
  schema: GraphQLSchema,
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const selection of selectionSet.selections) {
    if (selection.kind === Kind.FIELD) {
      const key = selection.alias?.value ?? selection.name.value;
      if (selection.name.value === '__typename') {
        out[key] = type.name;
        continue;
      }
      const field = type.getFields()[selection.name.value];
      if (field) out[key] = emptyValue(field.type, selection.selectionSet, fragments, schema);
    } else {
      const fragment = selection.kind === Kind.INLINE_FRAGMENT ? selection : fragments.get(selection.name.value);
      const condition = fragment?.typeCondition?.name.value;
      if (fragment && (!condition || condition === type.name)) {
        Object.assign(out, emptyObject(type, fragment.selectionSet, fragments, schema));
      }
    }
  }
  return out;
}

function emptyValue(
  type: GraphQLOutputType,
  selectionSet: SelectionSetNode | undefined,
  fragments: Map<string, FragmentDefinitionNode>,
  schema: GraphQLSchema,
): unknown {
  if (!isNonNullType(type)) return null;
  const inner = type.ofType;
  if (isListType(inner)) return [];
  const named = getNamedType(inner);
  if (isObjectType(named)) return emptyObject(named, selectionSet!, fragments, schema);
  if (isAbstractType(named)) {
    const [first] = schema.getPossibleTypes(named);
    return first ? emptyObject(first, selectionSet!, fragments, schema) : null;
  }
  if (isEnumType(named)) return named.getValues()[0]?.value ?? null;
  switch (named.name) {
    case 'Int':
    case 'Float':
      return 0;
    case 'Boolean':
      return false;
    default:
      return '';
  }
}
