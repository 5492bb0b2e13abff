import {
  Kind,
  getNamedType,
  getNullableType,
  getOperationAST,
  isCompositeType,
  isInterfaceType,
  isListType,
  isObjectType,
  valueFromASTUntyped,
  type DocumentNode,
  type FieldNode,
  type FragmentDefinitionNode,
  type GraphQLField,
  type GraphQLNamedType,
  type GraphQLSchema,
  type SelectionSetNode,
} from 'graphql';
import type { CostDirectives, ListSize } from './costDirectives.ts';

/** How an operation's cost is estimated (IBM's cost spec, with Apollo's defaults). */
export interface CostModel {
  /** A field of object, interface or union type. */
  defaultFieldCost: number;
  /** A scalar or enum field. */
  scalarFieldCost: number;
  /** Added per mutation root field. */
  mutationCost: number;
  /** Size of a list no argument and no @listSize sizes. */
  defaultListSize: number;
  /** Arguments that size a list when @listSize names none, e.g. first, last, limit. */
  slicingArguments: readonly string[];
  directives: CostDirectives;
}

/** The cost of one operation as a function of its variables: compiled once per document. */
export type CostFormula = (variables: Readonly<Record<string, unknown>>) => number;

type Evaluate = (variables: Readonly<Record<string, unknown>>, memo: Map<string, number>) => number;
type Size = (variables: Readonly<Record<string, unknown>>) => number;

const ZERO: Evaluate = () => 0;

function count(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isFinite(value) ? Math.max(0, value) : undefined;
}

/**
 * Compiles the estimated cost of `operationName` in `document`: a field of composite type costs
 * `defaultFieldCost` (or its @cost), a scalar `scalarFieldCost`; a list multiplies its item's cost
 * by its size — the largest slicing argument given (literal, variable, variable default or argument
 * default), else its @listSize assumedSize, else `defaultListSize`. A field that takes a slicing
 * argument but returns one object (a connection) sizes its list fields instead (`edges`), as
 * @listSize(sizedFields:) says explicitly. Fragments count where they are spread; every branch of
 * an abstract type counts (an upper bound); introspection fields are free (the depth limit bounds them).
 */
export function compileCost(schema: GraphQLSchema, document: DocumentNode, operationName: string | null | undefined, model: CostModel): CostFormula {
  const operation = getOperationAST(document, operationName);
  const rootType = operation && schema.getRootType(operation.operation);
  if (!operation || !rootType) return () => 0;
  const { directives } = model;
  const fragments = new Map(
    document.definitions.filter((d): d is FragmentDefinitionNode => d.kind === Kind.FRAGMENT_DEFINITION).map((d) => [d.name.value, d]),
  );
  const variableDefaults = new Map(
    (operation.variableDefinitions ?? []).map((v) => [v.variable.name.value, v.defaultValue ? valueFromASTUntyped(v.defaultValue) : undefined]),
  );
  const fragmentCosts = new Map<string, Evaluate>();
  const sizingIds = new Map<object, number>();
  const sizingIdOf = (sized: object): number => {
    let id = sizingIds.get(sized);
    if (id === undefined) sizingIds.set(sized, (id = sizingIds.size + 1));
    return id;
  };

  const sizeOf = (field: GraphQLField<unknown, unknown>, node: FieldNode, listSize: ListSize | undefined): Size => {
    const names = listSize?.slicingArguments ?? model.slicingArguments.filter((name) => field.args.some((a) => a.name === name));
    const readers = names.map((name): ((variables: Readonly<Record<string, unknown>>) => number | undefined) => {
      const schemaDefault = count(field.args.find((a) => a.name === name)?.defaultValue);
      const given = node.arguments?.find((a) => a.name.value === name);
      if (!given) return () => schemaDefault;
      if (given.value.kind === Kind.VARIABLE) {
        const variable = given.value.name.value;
        return (variables) => count(variables[variable]) ?? count(variableDefaults.get(variable)) ?? schemaDefault;
      }
      const literal = count(valueFromASTUntyped(given.value));
      return () => literal;
    });
    const fallback = listSize?.assumedSize ?? model.defaultListSize;
    return (variables) => {
      let size: number | undefined;
      for (const read of readers) {
        const value = read(variables);
        if (value !== undefined) size = Math.max(size ?? 0, value);
      }
      return size ?? fallback;
    };
  };

  const compileField = (node: FieldNode, parent: GraphQLNamedType, sizedByParent: Size | undefined, visiting: ReadonlySet<string>): Evaluate => {
    const name = node.name.value;
    if (name.startsWith('__') || !(isObjectType(parent) || isInterfaceType(parent))) return ZERO;
    const field = parent.getFields()[name];
    if (!field) return ZERO;
    const type = getNamedType(field.type);
    const isList = isListType(getNullableType(field.type));
    const coordinate = `${parent.name}.${name}`;
    const weight =
      directives.fieldWeights.get(coordinate) ??
      directives.typeWeights.get(type.name) ??
      (isCompositeType(type) ? model.defaultFieldCost : model.scalarFieldCost);
    const base = parent === rootType && operation.operation === 'mutation' ? model.mutationCost : 0;
    const listSize = directives.listSizes.get(coordinate);
    const slicing = listSize?.slicingArguments ?? model.slicingArguments;
    let sizedFields = listSize?.sizedFields;
    if (!sizedFields && !isList && isObjectType(type) && field.args.some((a) => slicing.includes(a.name))) {
      sizedFields = Object.values(type.getFields()).filter((f) => isListType(getNullableType(f.type))).map((f) => f.name);
    }
    const size = isList || sizedFields?.length ? sizeOf(field, node, listSize) : undefined;
    const children = node.selectionSet
      ? compileSet(node.selectionSet, type, sizedFields?.length && size ? { names: new Set(sizedFields), size } : undefined, visiting)
      : ZERO;
    const multiplier: Size | undefined = sizedByParent ?? (isList && !sizedFields?.length ? size : undefined);
    if (!multiplier) return (variables, memo) => base + weight + children(variables, memo);
    return (variables, memo) => base + multiplier(variables) * (weight + children(variables, memo));
  };

  const compileSet = (
    selectionSet: SelectionSetNode,
    parent: GraphQLNamedType,
    sized: { names: ReadonlySet<string>; size: Size } | undefined,
    visiting: ReadonlySet<string>,
  ): Evaluate => {
    const parts: Evaluate[] = [];
    for (const selection of selectionSet.selections) {
      if (selection.kind === Kind.FIELD) {
        parts.push(compileField(selection, parent, sized?.names.has(selection.name.value) ? sized.size : undefined, visiting));
      } else if (selection.kind === Kind.INLINE_FRAGMENT) {
        const type = selection.typeCondition ? schema.getType(selection.typeCondition.name.value) : parent;
        if (type) parts.push(compileSet(selection.selectionSet, type, sized, visiting));
      } else {
        const name = selection.name.value;
        const fragment = fragments.get(name);
        const type = fragment && schema.getType(fragment.typeCondition.name.value);
        if (!fragment || !type || visiting.has(name)) continue;
        const inner = new Set([...visiting, name]);
        // A fragment sized by the field around it costs what that field makes it cost, so it is
        // shared per sizing field; compiled and evaluated once each way, whatever the number of
        // spreads (fragments spreading each other twice over would be exponential otherwise).
        const key = sized ? `${sizingIdOf(sized)}:${name}` : name;
        let shared = fragmentCosts.get(key);
        if (!shared) fragmentCosts.set(key, (shared = compileSet(fragment.selectionSet, type, sized, inner)));
        const evaluate = shared;
        parts.push((variables, memo) => {
          const known = memo.get(key);
          if (known !== undefined) return known;
          const value = evaluate(variables, memo);
          memo.set(key, value);
          return value;
        });
      }
    }
    return (variables, memo) => {
      let total = 0;
      for (const part of parts) total += part(variables, memo);
      return total;
    };
  };

  const root = compileSet(operation.selectionSet, rootType, undefined, new Set());
  return (variables) => root(variables, new Map());
}
