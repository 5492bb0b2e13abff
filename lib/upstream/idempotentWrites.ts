import {
  Kind,
  parse,
  type ConstDirectiveNode,
  type DocumentNode,
  type OperationDefinitionNode,
  type SelectionSetNode,
  type ValueNode,
} from 'graphql';

/**
 * Which root fields are safe to send twice, read from `@idempotent(key: "input.idempotencyKey")` in
 * the composed supergraph SDL: one declaration, in the subgraph SDL that owns the field, composed
 * with `@composeDirective` as `@cacheControl` is. `key` is the path, through the field's arguments,
 * of the value that makes a repeat harmless: the same key gives the same outcome, done once. A
 * field declared without a key (`@idempotent`) is safe to repeat as it is: a subscription that only
 * reads, say.
 */
export interface IdempotentWrites {
  /** The key's path for a field declared idempotent, e.g. `["input", "idempotencyKey"]` (empty: no key needed). */
  keyOf(typeName: string, fieldName: string): readonly string[] | undefined;
}

export const IDEMPOTENT_DIRECTIVE = 'idempotent';

/** Reads the declarations of one or more supergraph (or subgraph) SDLs. */
export function readIdempotentWrites(...sdls: Array<string | DocumentNode>): IdempotentWrites {
  const keys = new Map<string, string[]>();
  for (const sdl of sdls) {
    const document = typeof sdl === 'string' ? parse(sdl, { noLocation: true }) : sdl;
    for (const definition of document.definitions) {
      if (definition.kind !== Kind.OBJECT_TYPE_DEFINITION && definition.kind !== Kind.OBJECT_TYPE_EXTENSION) continue;
      for (const field of definition.fields ?? []) {
        const key = keyPathOf(field.directives);
        if (key) keys.set(`${definition.name.value}.${field.name.value}`, key);
      }
    }
  }
  return { keyOf: (typeName, fieldName) => keys.get(`${typeName}.${fieldName}`) };
}

function keyPathOf(directives: readonly ConstDirectiveNode[] | undefined): string[] | undefined {
  const directive = directives?.find((d) => d.name.value === IDEMPOTENT_DIRECTIVE);
  if (!directive) return undefined;
  const key = directive.arguments?.find((a) => a.name.value === 'key')?.value;
  if (!key || key.kind === Kind.NULL) return [];
  return key.kind === Kind.STRING && key.value ? key.value.split('.') : undefined;
}

/**
 * The keys an operation's root fields need before it may be sent twice, worked out once per
 * document: undefined when some root field is not declared idempotent (or cannot be read, such as
 * a fragment spread at the root), else each field's key argument as written.
 */
export type IdempotencyKeyArguments = ReadonlyArray<{ argument: ValueNode; rest: readonly string[] }>;

/** What an operation's root fields declare; `rootType` is the operation's root type name (e.g. `Mutation`). */
export function idempotencyKeyArguments(
  operation: OperationDefinitionNode,
  rootType: string,
  writes: IdempotentWrites,
): IdempotencyKeyArguments | undefined {
  const found: Array<{ argument: ValueNode; rest: readonly string[] }> = [];
  const visit = (selectionSet: SelectionSetNode): boolean => {
    for (const selection of selectionSet.selections) {
      if (selection.kind === Kind.INLINE_FRAGMENT) {
        if (!visit(selection.selectionSet)) return false;
        continue;
      }
      if (selection.kind !== Kind.FIELD) return false;
      if (selection.name.value === '__typename') continue;
      const key = writes.keyOf(rootType, selection.name.value);
      if (!key) return false;
      if (key.length === 0) continue;
      const argument = selection.arguments?.find((a) => a.name.value === key[0])?.value;
      if (!argument) return false;
      found.push({ argument, rest: key.slice(1) });
    }
    return true;
  };
  return visit(operation.selectionSet) ? found : undefined;
}

/** Whether every key argument holds a key in this request (a non-empty string or a number). */
export function carriesIdempotencyKeys(keys: IdempotencyKeyArguments, variables: Readonly<Record<string, unknown>> | undefined): boolean {
  return keys.every(({ argument, rest }) => isKey(valueAt(argument, rest, variables)));
}

function isKey(value: unknown): boolean {
  return (typeof value === 'string' && value.length > 0) || typeof value === 'number';
}

/** The value at `path` under a literal or variable argument, with variables substituted at any depth. */
function valueAt(node: ValueNode, path: readonly string[], variables: Readonly<Record<string, unknown>> | undefined): unknown {
  if (node.kind === Kind.VARIABLE) return pathIn(variables?.[node.name.value], path);
  if (path.length === 0) {
    if (node.kind === Kind.STRING) return node.value;
    if (node.kind === Kind.INT) return Number(node.value);
    return undefined;
  }
  if (node.kind !== Kind.OBJECT) return undefined;
  const field = node.fields.find((f) => f.name.value === path[0]);
  return field ? valueAt(field.value, path.slice(1), variables) : undefined;
}

function pathIn(value: unknown, path: readonly string[]): unknown {
  let current = value;
  for (const segment of path) {
    if (current === null || typeof current !== 'object') return undefined;
    current = (current as Record<string, unknown>)[segment];
  }
  return current;
}
