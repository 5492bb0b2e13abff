import type { GraphQLSchema } from 'graphql';
export { composeFromRoverConfig, type CompositionOutcome } from '../lib/topology/composeSupergraph.ts';
import { buildApiSchema } from '../router/loadApiSchema.ts';
import { buildRoutingTable, printPublicSchema } from '../router/routingTable.ts';

/** One composition target: a rover supergraph config and the file its supergraph SDL is written to. */
export interface CompositionTarget {
  name: string;
  config: string;
  output: string;
}

export const COMPOSITION_TARGETS: CompositionTarget[] = [
  { name: 'identity', config: 'supergraphs/identity/supergraph.yaml', output: 'schema/identity.supergraph.graphql' },
  { name: 'commerce', config: 'supergraphs/commerce/supergraph.yaml', output: 'schema/commerce.supergraph.graphql' },
  { name: 'all', config: 'rover.yaml', output: 'schema/supergraph.graphql' },
];

/** Where the router's public schema (both supergraphs' API schemas merged) is written. */
export const PUBLIC_SCHEMA_FILE = 'schema/public.graphql';

/** The router's public schema, printed from the composed identity and commerce SDLs. */
export function printRouterSchema(supergraphSdls: Record<string, string>): string {
  const table = buildRoutingTable(
    Object.fromEntries(Object.entries(supergraphSdls).map(([name, sdl]) => [name, buildApiSchema(sdl)])) as Record<string, GraphQLSchema>,
  );
  return `${printPublicSchema(table)}\n`;
}
