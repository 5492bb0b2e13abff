import type { Supergraph } from '@apollo/federation-internals';
import { buildSchema, type GraphQLSchema } from 'graphql';

const schemas = new WeakMap<Supergraph, Map<string, GraphQLSchema>>();

/**
 * A subgraph's own schema as the supergraph records it (no resolvers), for shaping degraded answers.
 * Built on first use: only a failing subgraph with a degraded policy needs one.
 */
export function subgraphSchema(supergraph: Supergraph, name: string): GraphQLSchema {
  let byName = schemas.get(supergraph);
  if (!byName) schemas.set(supergraph, (byName = new Map()));
  let schema = byName.get(name);
  if (!schema) {
    const subgraph = supergraph.subgraphs().get(name);
    if (!subgraph) throw new Error(`the supergraph has no subgraph named ${name}`);
    // Through SDL: federation-internals may load another copy of graphql than ours (see loadApiSchema.ts).
    schema = buildSchema(subgraph.toString(), { assumeValidSDL: true });
    byName.set(name, schema);
  }
  return schema;
}
