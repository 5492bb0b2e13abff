import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { printSchema } from '@apollo/federation-internals';
import { buildEnforcedSupergraph } from '../lib/authorization/enforcedSupergraph.ts';
import { buildSchema, type GraphQLSchema } from 'graphql';
import { SupergraphName } from '../lib/topology/loadTopology.ts';

/** Folder holding the composed `<name>.supergraph.graphql` files. */
export const DEFAULT_SCHEMA_DIR = resolve(import.meta.dirname, '..', 'schema');

/** The client-facing API schema of a composed supergraph SDL (join/link machinery removed). */
export function buildApiSchema(supergraphSdl: string): GraphQLSchema {
  // Through SDL rather than `toGraphQLJSSchema()`: federation-internals is CommonJS and may load a
  // different copy of graphql than the router's ESM code (vitest does), and graphql-js refuses
  // types from another copy.
  return buildSchema(printSchema(buildEnforcedSupergraph(supergraphSdl).apiSchema()));
}

/** A composed supergraph as the router reads it. */
export interface LoadedSupergraph {
  /** The composed SDL, which keeps the `@cacheControl` hints the API schema drops. */
  sdl: string;
  apiSchema: GraphQLSchema;
}

/** The API schema alone; see loadSupergraph. */
export function loadApiSchema(name: SupergraphName, schemaDir: string = DEFAULT_SCHEMA_DIR): GraphQLSchema {
  return loadSupergraph(name, schemaDir).apiSchema;
}

/**
 * Loads a supergraph from its committed composed SDL rather than from the live gateway, so the
 * router can start (and answer for the other supergraph) while a gateway is down.
 */
export function loadSupergraph(name: SupergraphName, schemaDir: string = DEFAULT_SCHEMA_DIR): LoadedSupergraph {
  const file = resolve(schemaDir, `${name}.supergraph.graphql`);
  let sdl: string;
  try {
    sdl = readFileSync(file, 'utf8');
  } catch (error) {
    throw new Error(`cannot read the ${name} supergraph schema ${file}: ${(error as Error).message}`);
  }
  return supergraphFromSdl(name, sdl, file);
}

/** A supergraph from its composed SDL (however it was read), with its API schema. */
export function supergraphFromSdl(name: SupergraphName, sdl: string, from = 'its SDL'): LoadedSupergraph {
  try {
    return { sdl, apiSchema: buildApiSchema(sdl) };
  } catch (error) {
    throw new Error(`invalid ${name} supergraph schema ${from}: ${(error as Error).message}`);
  }
}
