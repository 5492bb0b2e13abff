import { Kind, parse, type ConstDirectiveNode, type DefinitionNode, type DocumentNode } from 'graphql';

/** One `@cacheControl` hint, as written in a subgraph SDL and kept in the composed supergraph. */
export interface CacheHint {
  scope?: 'PUBLIC' | 'PRIVATE';
  maxAge?: number;
  /** The field's (or type's) hint is its parent's, as in Apollo Server's cache control. */
  inheritMaxAge?: boolean;
}

/**
 * What is public, read from `@cacheControl` hints in the composed supergraph SDLs: the one declaration
 * every cache (response cache, both fallback tiers) asks. Subgraph SDLs declare the directive and
 * compose it with `@composeDirective`, so the hints survive composition.
 */
export interface CacheHints {
  type(name: string): CacheHint | undefined;
  field(typeName: string, fieldName: string): CacheHint | undefined;
}

export const CACHE_CONTROL_DIRECTIVE = 'cacheControl';

/** Collects the hints of one or more supergraph (or subgraph) SDLs; a later hint on the same element wins. */
export function readCacheHints(...sdls: Array<string | DocumentNode>): CacheHints {
  const types = new Map<string, CacheHint>();
  const fields = new Map<string, CacheHint>();
  for (const sdl of sdls) {
    const document = typeof sdl === 'string' ? parse(sdl, { noLocation: true }) : sdl;
    for (const definition of document.definitions) collect(definition, types, fields);
  }
  return {
    type: (name) => types.get(name),
    field: (typeName, fieldName) => fields.get(`${typeName}.${fieldName}`),
  };
}

function collect(definition: DefinitionNode, types: Map<string, CacheHint>, fields: Map<string, CacheHint>): void {
  switch (definition.kind) {
    case Kind.OBJECT_TYPE_DEFINITION:
    case Kind.OBJECT_TYPE_EXTENSION:
    case Kind.INTERFACE_TYPE_DEFINITION:
    case Kind.INTERFACE_TYPE_EXTENSION:
    case Kind.UNION_TYPE_DEFINITION:
    case Kind.UNION_TYPE_EXTENSION: {
      const typeHint = hintOf(definition.directives);
      if (typeHint) types.set(definition.name.value, typeHint);
      if (definition.kind === Kind.UNION_TYPE_DEFINITION || definition.kind === Kind.UNION_TYPE_EXTENSION) return;
      for (const field of definition.fields ?? []) {
        const fieldHint = hintOf(field.directives);
        if (fieldHint) fields.set(`${definition.name.value}.${field.name.value}`, fieldHint);
      }
      return;
    }
    default:
      return;
  }
}

function hintOf(directives: readonly ConstDirectiveNode[] | undefined): CacheHint | undefined {
  const directive = directives?.find((d) => d.name.value === CACHE_CONTROL_DIRECTIVE);
  if (!directive) return undefined;
  const hint: CacheHint = {};
  for (const argument of directive.arguments ?? []) {
    const { value } = argument;
    if (argument.name.value === 'scope' && value.kind === Kind.ENUM) hint.scope = value.value === 'PRIVATE' ? 'PRIVATE' : 'PUBLIC';
    if (argument.name.value === 'maxAge' && value.kind === Kind.INT) hint.maxAge = Number(value.value);
    if (argument.name.value === 'inheritMaxAge' && value.kind === Kind.BOOLEAN) hint.inheritMaxAge = value.value;
  }
  return hint;
}
