import { readFileSync } from 'node:fs';
import { buildSubgraphSchema } from '@apollo/subgraph';
import { parse, type GraphQLSchema } from 'graphql';

const schemas = new Map<string, GraphQLSchema>();

/** A subgraph's own schema (from schema/<name>.graphql, no resolvers), for shaping degraded answers. */
export function subgraphSchema(name: string): GraphQLSchema {
  let schema = schemas.get(name);
  if (!schema) {
    const sdl = readFileSync(new URL(`../schema/${name}.graphql`, import.meta.url), 'utf8');
    schema = buildSubgraphSchema({ typeDefs: parse(sdl) });
    schemas.set(name, schema);
  }
  return schema;
}
