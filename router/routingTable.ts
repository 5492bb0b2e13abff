import {
  GraphQLObjectType,
  GraphQLSchema,
  buildSchema,
  isNonNullType,
  isObjectType,
  isSpecifiedDirective,
  isSpecifiedScalarType,
  isIntrospectionType,
  printSchema,
  printType,
  type GraphQLDirective,
  type GraphQLFieldConfigMap,
  type GraphQLNamedType,
} from 'graphql';
import { readCacheHints, type CacheHints } from '../lib/fallback/cacheHints.ts';
import { readIdempotentWrites, type IdempotentWrites } from '../lib/upstream/idempotentWrites.ts';
import { SupergraphName } from '../lib/topology/loadTopology.ts';

export type RootOperation = 'query' | 'mutation' | 'subscription';

/** The merged public schema and which supergraph answers each root field. */
export interface RoutingTable {
  /** What clients see: every supergraph's API schema merged, router-only fields hidden. */
  readonly schema: GraphQLSchema;
  /** Supergraphs in the table, in the order they were given. */
  readonly supergraphs: readonly SupergraphName[];
  /** What is public, from the supergraphs' `@cacheControl` hints. */
  readonly cacheHints: CacheHints;
  /** Which writes may be sent twice, from the supergraphs' `@idempotent` declarations. */
  readonly idempotentWrites: IdempotentWrites;
  /** The supergraph owning a root field (hidden `_internal*` fields included), if any. */
  ownerOf(rootType: RootOperation, fieldName: string): SupergraphName | undefined;
}

/** Root fields with this prefix are for the router only (e.g. `_internalAuthenticate`). */
export const INTERNAL_FIELD_PREFIX = '_internal';

const ROOT_OPERATIONS: readonly RootOperation[] = ['query', 'mutation', 'subscription'];
const ROOT_TYPE_NAMES: Record<RootOperation, string> = { query: 'Query', mutation: 'Mutation', subscription: 'Subscription' };

function rootTypeOf(schema: GraphQLSchema, operation: RootOperation): GraphQLObjectType | null | undefined {
  if (operation === 'query') return schema.getQueryType();
  if (operation === 'mutation') return schema.getMutationType();
  return schema.getSubscriptionType();
}

/**
 * Merges the API schemas of several supergraphs into the router's public schema and routing table.
 * Throws when two supergraphs define the same root field or the same type differently, because the
 * router could not tell which one to ask or what shape the answer has.
 */
export function buildRoutingTable(
  apiSchemas: Partial<Record<SupergraphName, GraphQLSchema>>,
  /** @default no hints: nothing is public */
  cacheHints: CacheHints = readCacheHints(),
  /** @default none: no write is sent twice once it may have reached a gateway */
  idempotentWrites: IdempotentWrites = readIdempotentWrites(),
): RoutingTable {
  const entries = Object.entries(apiSchemas).filter((entry): entry is [SupergraphName, GraphQLSchema] => !!entry[1]);
  const rootNames = new Set<string>();
  for (const [, schema] of entries) {
    for (const operation of ROOT_OPERATIONS) {
      const root = rootTypeOf(schema, operation);
      if (root) rootNames.add(root.name);
    }
  }

  // Non-root types and directives: the first definition wins, later ones must print identically.
  const types = new Map<string, { sdl: string; from: SupergraphName }>();
  const directives = new Map<string, { sdl: string; from: SupergraphName }>();
  for (const [name, schema] of entries) {
    for (const type of Object.values(schema.getTypeMap())) {
      if (rootNames.has(type.name) || isBuiltIn(type)) continue;
      addUnique(types, 'type', type.name, printType(type), name);
    }
    for (const directive of schema.getDirectives()) {
      if (isSpecifiedDirective(directive)) continue;
      addUnique(directives, 'directive', `@${directive.name}`, printDirective(directive), name);
    }
  }

  const owners: Record<RootOperation, Map<string, SupergraphName>> = { query: new Map(), mutation: new Map(), subscription: new Map() };
  const rootSdl: string[] = [];
  for (const operation of ROOT_OPERATIONS) {
    const fields: GraphQLFieldConfigMap<unknown, unknown> = {};
    let description: string | null | undefined;
    for (const [name, schema] of entries) {
      const root = rootTypeOf(schema, operation);
      if (!root) continue;
      description ??= root.description;
      for (const [fieldName, field] of Object.entries(root.toConfig().fields)) {
        const previous = owners[operation].get(fieldName);
        if (previous) {
          throw new Error(`root field ${ROOT_TYPE_NAMES[operation]}.${fieldName} is defined by both the ${previous} and the ${name} supergraphs`);
        }
        owners[operation].set(fieldName, name);
        if (fieldName.startsWith(INTERNAL_FIELD_PREFIX)) continue;
        // Root fields are nullable in the public schema on purpose: when one supergraph fails, the
        // router nulls that supergraph's root fields and the rest of the answer stands. A non-null
        // root field would instead propagate the null up to `data` and wipe out every other part.
        // Subscription roots are left alone: each event comes from one supergraph only.
        const type = operation !== 'subscription' && isNonNullType(field.type) ? field.type.ofType : field.type;
        fields[fieldName] = { ...field, type };
      }
    }
    if (Object.keys(fields).length === 0) continue;
    rootSdl.push(printType(new GraphQLObjectType({ name: ROOT_TYPE_NAMES[operation], description, fields })));
  }
  if (!owners.query.size) throw new Error('no supergraph defines a Query type');

  const sdl = [...[...directives.values()].map((d) => d.sdl), ...[...types.values()].map((t) => t.sdl), ...rootSdl].join('\n\n');
  const schema = pruneUnreachable(buildSchema(sdl));
  return {
    schema,
    supergraphs: entries.map(([name]) => name),
    cacheHints,
    idempotentWrites,
    ownerOf: (rootType, fieldName) => owners[rootType].get(fieldName),
  };
}

/** The public schema as SDL, e.g. to commit it next to the supergraph SDLs. */
export function printPublicSchema(table: RoutingTable): string {
  return printSchema(table.schema);
}

function addUnique(
  seen: Map<string, { sdl: string; from: SupergraphName }>,
  kind: string,
  name: string,
  sdl: string,
  from: SupergraphName,
): void {
  const existing = seen.get(name);
  if (!existing) {
    seen.set(name, { sdl, from });
    return;
  }
  if (existing.sdl !== sdl) {
    throw new Error(`${kind} ${name} is defined differently by the ${existing.from} and the ${from} supergraphs`);
  }
}

function isBuiltIn(type: GraphQLNamedType): boolean {
  return isSpecifiedScalarType(type) || isIntrospectionType(type);
}

function printDirective(directive: GraphQLDirective): string {
  // printSchema is graphql-js's only public printer for directive definitions.
  return printSchema(new GraphQLSchema({ directives: [directive] })).trim();
}

/**
 * Drops types only router-only fields referred to (e.g. `AuthenticatedPrincipal`), so hidden fields
 * leave no trace in introspection. Object types implementing an interface are kept, because they are
 * reachable through that interface without being named by any field.
 */
function pruneUnreachable(schema: GraphQLSchema): GraphQLSchema {
  const config = schema.toConfig();
  const implementors = config.types.filter((type) => isObjectType(type) && type.getInterfaces().length > 0);
  return new GraphQLSchema({ ...config, types: implementors });
}
