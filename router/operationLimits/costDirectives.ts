import { Kind, valueFromASTUntyped, type ConstDirectiveNode, type DocumentNode } from 'graphql';

/** `@listSize` of one field (IBM's GraphQL cost directive spec, as Apollo Federation 2.9 composes it). */
export interface ListSize {
  assumedSize?: number;
  slicingArguments?: string[];
  sizedFields?: string[];
}

/** The `@cost` and `@listSize` declarations of a composed schema. */
export interface CostDirectives {
  /** `@cost(weight:)` on a field, by "Type.field". */
  fieldWeights: ReadonlyMap<string, number>;
  /** `@cost(weight:)` on an object, scalar or enum type, by type name. */
  typeWeights: ReadonlyMap<string, number>;
  /** `@listSize` by "Type.field". */
  listSizes: ReadonlyMap<string, ListSize>;
}

export const NO_COST_DIRECTIVES: CostDirectives = { fieldWeights: new Map(), typeWeights: new Map(), listSizes: new Map() };

/** A directive's own name, without the `federation__`/`cost__` prefix a @link may give it. */
function baseName(directive: ConstDirectiveNode): string {
  const name = directive.name.value;
  return name.includes('__') ? name.slice(name.lastIndexOf('__') + 2) : name;
}

function argumentsOf(directive: ConstDirectiveNode): Record<string, unknown> {
  return Object.fromEntries((directive.arguments ?? []).map((arg) => [arg.name.value, valueFromASTUntyped(arg.value)]));
}

/**
 * Reads the cost directives from supergraph SDLs: the router's API schema drops them (they are
 * composition metadata), so they are taken from the composed files themselves.
 */
export function readCostDirectives(documents: readonly DocumentNode[]): CostDirectives {
  const fieldWeights = new Map<string, number>();
  const typeWeights = new Map<string, number>();
  const listSizes = new Map<string, ListSize>();
  for (const document of documents) {
    for (const definition of document.definitions) {
      if (!('fields' in definition) && definition.kind !== Kind.SCALAR_TYPE_DEFINITION && definition.kind !== Kind.ENUM_TYPE_DEFINITION) continue;
      if (!('name' in definition) || !definition.name) continue;
      const typeName = definition.name.value;
      for (const directive of definition.directives ?? []) {
        const weight = Number(argumentsOf(directive).weight);
        if (baseName(directive) === 'cost' && Number.isFinite(weight)) typeWeights.set(typeName, weight);
      }
      if (definition.kind === Kind.INPUT_OBJECT_TYPE_DEFINITION || definition.kind === Kind.INPUT_OBJECT_TYPE_EXTENSION) continue;
      for (const field of ('fields' in definition ? definition.fields : undefined) ?? []) {
        const coordinate = `${typeName}.${field.name.value}`;
        for (const directive of field.directives ?? []) {
          const args = argumentsOf(directive);
          if (baseName(directive) === 'cost' && Number.isFinite(Number(args.weight))) fieldWeights.set(coordinate, Number(args.weight));
          if (baseName(directive) === 'listSize') {
            listSizes.set(coordinate, {
              ...(typeof args.assumedSize === 'number' ? { assumedSize: args.assumedSize } : {}),
              ...(Array.isArray(args.slicingArguments) ? { slicingArguments: args.slicingArguments.map(String) } : {}),
              ...(Array.isArray(args.sizedFields) ? { sizedFields: args.sizedFields.map(String) } : {}),
            });
          }
        }
      }
    }
  }
  return { fieldWeights, typeWeights, listSizes };
}

