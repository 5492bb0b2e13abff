import type { GraphQLError } from 'graphql';
import { valueCompletionError } from '../../lib/errors.ts';
import type { ResponseShape, ShapeCondition, ShapeField, ShapeSelection, ShapeType } from './compileResponseShape.ts';
import type { TypeConditions } from './typeConditions.ts';

/** What shaping needs besides the data: the request's variables, the API schema's type conditions, introspection. */
export interface ShapeRequest {
  variables: Record<string, unknown> | undefined;
  types: TypeConditions;
  /** Answers an introspection field (`__schema`, `__type`) of the operation. */
  introspect(field: ShapeField): unknown;
}

type Path = Array<string | number>;

/** Returned by a selection set whose object must become null (a non-null field was null, or `__typename` named no object type). */
const BUBBLE = 1;
const OK = 0;

/** Per request: the variables, the collected value-completion errors and the flags of the last completion. */
interface Run {
  shape: ResponseShape;
  request: ShapeRequest;
  variables: Record<string, unknown>;
  errors: GraphQLError[];
  path: Path;
  /** Set by `complete` before it returns: the value is a null in a non-null position, to bubble up. */
  invalid: boolean;
  /** Set by `complete` before it returns: an error was already recorded for this value. */
  hasErrors: boolean;
}

/**
 * Builds the client's `data` from what the plan's fetches gathered, exactly as @apollo/gateway's
 * `computeResponse` does: only the fields the operation selects, in its order, under its aliases;
 * `__typename` of the real object type; `@skip`/`@include` applied; values its types refuse nulled and
 * reported; nulls in non-null positions bubbled up to the nearest nullable parent. The data is read,
 * never copied twice: every output object is built once here.
 */
export function shapeResponse(shape: ResponseShape, input: Record<string, unknown>, request: ShapeRequest): { data: Record<string, unknown> | null; errors: GraphQLError[] } {
  const run: Run = {
    shape,
    request,
    variables: request.variables ? { ...shape.defaults, ...request.variables } : shape.defaults,
    errors: [],
    path: [],
    invalid: false,
    hasErrors: false,
  };
  const data: Record<string, unknown> = {};
  const result = applySelections(run, input, shape.selections, data, shape.rootType);
  return { data: result === BUBBLE ? null : data, errors: run.errors };
}

function skipped(run: Run, conditions: ShapeCondition[]): boolean {
  for (const condition of conditions) {
    const value = typeof condition.value === 'boolean' ? condition.value : run.variables[condition.value];
    if (typeof value !== 'boolean') throw new Error(`Unexpected value ${String(value)} for variable $${String(condition.value)}`);
    if (value === condition.skipWhen) return true;
  }
  return false;
}

function read(object: Record<string, unknown>, field: ShapeField): unknown {
  return field.guarded && !Object.hasOwn(object, field.responseName) ? undefined : object[field.responseName];
}

function applySelections(run: Run, input: Record<string, unknown>, selections: ShapeSelection[], output: Record<string, unknown>, parentType: string): number {
  for (const selection of selections) {
    if (selection.conditions && skipped(run, selection.conditions)) continue;
    if (selection.kind === 'fragment') {
      const typename = input.__typename;
      if (typename && typeof typename !== 'string') throw new Error(`Got unexpected value for __typename: ${String(typename)}`);
      const condition = selection.typeCondition;
      if (condition === undefined || run.request.types.fragmentApplies(condition, (typename as string) || undefined, parentType)) {
        if (applySelections(run, input, selection.selections, output, condition ?? parentType) === BUBBLE) return BUBBLE;
      }
      continue;
    }
    const key = selection.responseName;
    const outputValue = output[key];
    if (selection.role === 'introspection') {
      if (outputValue === undefined) output[key] = run.request.introspect(selection);
      continue;
    }
    let inputValue = read(input, selection) ?? null;
    if (selection.role === 'typename') {
      if (outputValue === undefined) {
        // An aliased __typename that the fetches did not answer under its alias: the plain one will do.
        if (inputValue === null && key !== '__typename') inputValue = input.__typename ?? null;
        // The object's own type when it names a type of the API schema, else the declared type; not an
        // object type (an interface an @interfaceObject subgraph answered with) nulls the whole object.
        const named = typeof inputValue === 'string' && run.shape.typeKinds.has(inputValue) ? inputValue : parentType;
        if (run.shape.typeKinds.get(named) !== 'object') return BUBBLE;
        output[key] = named;
      }
      continue;
    }
    run.path.push(key);
    const updated = complete(run, outputValue, selection.type, inputValue, selection.selections, parentType);
    output[key] = updated;
    run.path.pop();
    if (run.invalid) return BUBBLE;
  }
  return OK;
}

function describeLast(path: Path, typeText: string, parentType: string): string {
  const element = path[path.length - 1];
  return typeof element === 'string' ? `field ${parentType}.${element}` : `array element of type ${typeText} at index ${element}`;
}

function done(run: Run, value: unknown, invalid: boolean, hasErrors: boolean): unknown {
  run.invalid = invalid;
  run.hasErrors = hasErrors;
  return value;
}

/** @apollo/gateway's `updateOutputValue`: the completed value; `run.invalid` / `run.hasErrors` say the rest. */
function complete(run: Run, outputValue: unknown, type: ShapeType, inputValue: unknown, selections: ShapeSelection[] | undefined, parentType: string): unknown {
  // A value already completed by an earlier selection of the same response name: only composites have more to add.
  if (outputValue === null || (outputValue !== undefined && !selections)) return done(run, outputValue, false, false);

  switch (type.kind) {
    case 'nonNull': {
      const updated = complete(run, outputValue, type.ofType, inputValue, selections, parentType);
      if (updated === null) {
        if (!run.hasErrors) {
          run.errors.push(valueCompletionError(`Cannot return null for non-nullable ${describeLast(run.path, type.ofType.text, parentType)}.`, [...run.path]));
        }
        return done(run, null, true, true);
      }
      return done(run, updated, false, false);
    }
    case 'list': {
      if (inputValue === null) return done(run, null, false, false);
      if (!Array.isArray(inputValue)) throw new Error(`Invalid non-list value ${String(inputValue)} returned by subgraph for list type ${type.text}`);
      if (outputValue !== undefined && !Array.isArray(outputValue)) throw new Error(`Invalid non-list value returned by subgraph for list type ${type.text}`);
      const previous = outputValue as unknown[] | undefined;
      if (previous && previous.length !== inputValue.length) throw new Error(`list lengths differ at ${run.path.join('.')}`);
      const updated = new Array<unknown>(inputValue.length);
      let nullify = false;
      let hasErrors = false;
      for (let i = 0; i < inputValue.length; i++) {
        run.path.push(i);
        updated[i] = complete(run, previous ? previous[i] : undefined, type.ofType, inputValue[i], selections, parentType);
        run.path.pop();
        nullify ||= run.invalid;
        hasErrors ||= run.hasErrors;
      }
      return done(run, nullify ? null : updated, false, hasErrors);
    }
    case 'composite': {
      if (inputValue === null) return done(run, null, false, false);
      if (!selections) throw new Error(`Invalid empty selection set for composite type ${type.text}`);
      if (typeof inputValue !== 'object') throw new Error(`Invalid non-object value ${String(inputValue)} returned by subgraph for composite type ${type.text}`);
      const object = inputValue as Record<string, unknown>;
      const typename = object.__typename;
      if (typename !== undefined && typeof typename !== 'string') throw new Error(`Invalid non-string value for __typename at ${run.path.join('.')}`);
      let objectType = type.text;
      if (typename) {
        const kind = run.shape.typeKinds.get(typename);
        if (kind !== 'object' && kind !== 'composite') {
          // An @inaccessible type's name must not leak: the message names only the operation's types.
          run.errors.push(valueCompletionError(`Invalid __typename found for object at ${describeLast(run.path, type.text, parentType)}.`, [...run.path]));
          return done(run, null, false, true);
        }
        objectType = typename;
      }
      const target = (outputValue ?? {}) as Record<string, unknown>;
      const bubbled = applySelections(run, object, selections, target, objectType) === BUBBLE;
      return done(run, bubbled ? null : target, false, bubbled);
    }
    case 'leaf': {
      if (inputValue === null) return done(run, null, false, false);
      if (type.valid(inputValue)) return done(run, inputValue, false, false);
      run.errors.push(valueCompletionError(`Invalid value found for ${describeLast(run.path, type.text, parentType)}.`, [...run.path]));
      return done(run, null, false, true);
    }
  }
}
