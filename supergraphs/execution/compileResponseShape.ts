import {
  Variable,
  isCompositeType,
  isCustomScalarType,
  isEnumType,
  isListType,
  isNonNullType,
  isObjectType,
  type FieldSelection,
  type NamedType,
  type Operation,
  type Schema,
  type SelectionSet,
  type Type,
} from '@apollo/federation-internals';
import type { FieldNode } from 'graphql';

/**
 * One operation's response shaping, compiled once per (document, operation name) from the same
 * federation `Operation` @apollo/gateway shapes with: the selections in the same order and merged the
 * same way, each field's type unwrapped into a small chain, each leaf's validity check bound to its
 * type, each `@skip`/`@include` reduced to a constant or a variable name. Requests then only walk data.
 */
export interface ResponseShape {
  rootType: string;
  selections: ShapeSelection[];
  /** Values of the variables that have defaults, for conditions the request leaves unset. */
  defaults: Record<string, unknown>;
  /** Names of the types a `__typename` may say, in the API schema: whether each is an object, or at least composite. */
  typeKinds: Map<string, 'object' | 'composite' | 'other'>;
}

/** A `@skip(if:)` or `@include(if:)` on a selection. */
export interface ShapeCondition {
  skipWhen: boolean;
  /** A literal, or the variable's name. */
  value: boolean | string;
}

export type ShapeSelection = ShapeField | ShapeFragment;

export interface ShapeField {
  kind: 'field';
  responseName: string;
  /** A response name that an object's prototype also has (`constructor`): read with hasOwn. */
  guarded: boolean;
  conditions: ShapeCondition[] | undefined;
  role: 'typename' | 'introspection' | 'value';
  type: ShapeType;
  selections: ShapeSelection[] | undefined;
  /** The field as a selection node, fragments expanded, for introspection fields. */
  node: FieldNode | undefined;
}

export interface ShapeFragment {
  kind: 'fragment';
  typeCondition: string | undefined;
  conditions: ShapeCondition[] | undefined;
  selections: ShapeSelection[];
}

/** A field's type, outermost wrapper first; `text` is how Apollo's messages print it. */
export type ShapeType =
  | { kind: 'nonNull'; ofType: ShapeType; text: string }
  | { kind: 'list'; ofType: ShapeType; text: string }
  | { kind: 'composite'; text: string }
  | { kind: 'leaf'; valid: (value: unknown) => boolean; text: string };

const INTEGER = /^-?(?:0|[1-9][0-9]*)$/;

/** Compiles `operation` (built against the API schema) into its response shape. */
export function compileResponseShape(operation: Operation): ResponseShape {
  const schema = operation.schema();
  const typeKinds = new Map<string, 'object' | 'composite' | 'other'>();
  for (const type of schema.types()) typeKinds.set(type.name, isObjectType(type) ? 'object' : isCompositeType(type) ? 'composite' : 'other');
  const leafChecks = new Map<string, (value: unknown) => boolean>();
  const typeOf = (type: Type): ShapeType => {
    if (isNonNullType(type)) return { kind: 'nonNull', ofType: typeOf(type.ofType), text: type.toString() };
    if (isListType(type)) return { kind: 'list', ofType: typeOf(type.ofType), text: type.toString() };
    if (isCompositeType(type)) return { kind: 'composite', text: type.toString() };
    const named = type as NamedType;
    let valid = leafChecks.get(named.name);
    if (!valid) leafChecks.set(named.name, (valid = leafCheck(schema, named)));
    return { kind: 'leaf', valid, text: named.toString() };
  };
  const compile = (selectionSet: SelectionSet): ShapeSelection[] =>
    selectionSet.selections().map((selection): ShapeSelection => {
      const conditions = conditionsOf(schema, selection.element);
      if (selection.kind === 'FieldSelection') {
        const field = selection.element;
        const responseName = field.responseName();
        const introspection = field.definition.isSchemaIntrospectionField();
        return {
          kind: 'field',
          responseName,
          guarded: responseName in Object.prototype,
          conditions,
          role: field.name === '__typename' ? 'typename' : introspection ? 'introspection' : 'value',
          type: typeOf(field.definition.type!),
          selections: selection.selectionSet ? compile(selection.selectionSet) : undefined,
          node: introspection ? (selection as FieldSelection).expandFragments().toSelectionNode() : undefined,
        };
      }
      return { kind: 'fragment', typeCondition: selection.element.typeCondition?.name, conditions, selections: compile(selection.selectionSet) };
    });
  const root = schema.schemaDefinition.rootType(operation.rootKind);
  if (!root) throw new Error(`the API schema has no ${operation.rootKind} type`);
  return { rootType: root.name, selections: compile(operation.selectionSet), defaults: operation.collectDefaultedVariableValues(), typeKinds };
}

/** Apollo's `shouldSkip` reads the first `@skip` and the first `@include` only. */
function conditionsOf(schema: Schema, element: { appliedDirectivesOf(d: unknown): ReadonlyArray<{ arguments(): Record<string, unknown> }> }): ShapeCondition[] | undefined {
  const conditions: ShapeCondition[] = [];
  const [skip] = element.appliedDirectivesOf(schema.skipDirective());
  const [include] = element.appliedDirectivesOf(schema.includeDirective());
  const valueOf = (directive: { arguments(): Record<string, unknown> }) => {
    const value = directive.arguments().if;
    return value instanceof Variable ? value.name : (value as boolean);
  };
  if (skip) conditions.push({ skipWhen: true, value: valueOf(skip) });
  if (include) conditions.push({ skipWhen: false, value: valueOf(include) });
  return conditions.length ? conditions : undefined;
}

/** @apollo/federation-internals' `isValidLeafValue`, bound to one leaf type of the API schema. */
function leafCheck(schema: Schema, type: NamedType): (value: unknown) => boolean {
  if (isCustomScalarType(type)) return () => true;
  const [isBoolean, isInt, isId, isFloat] = [type === schema.booleanType(), type === schema.intType(), type === schema.idType(), type === schema.floatType()];
  const enumValues = isEnumType(type) ? new Set(type.values.map((v) => v.name)) : undefined;
  return (value) => {
    switch (typeof value) {
      case 'boolean':
        return isBoolean;
      case 'number':
        if (!Number.isFinite(value)) return false;
        if (isInt || isId) return INTEGER.test(String(value));
        return isFloat;
      case 'string':
        if (enumValues) return enumValues.has(value);
        return !isBoolean && !isInt && !isFloat;
      default:
        return false;
    }
  };
}
