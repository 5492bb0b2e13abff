import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { composeServices } from '@apollo/composition';
import { parse, type GraphQLSchema } from 'graphql';
import YAML from 'yaml';
import { INVALID_COMPOSITION_CONFIG } from '../lib/errors.ts';
import type { SupergraphName } from '../lib/topology.ts';
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

interface RoverConfig {
  federation_version?: string;
  subgraphs: Record<string, { routing_url: string; schema: { file: string } }>;
}

export type CompositionOutcome =
  | { ok: true; supergraphSdl: string }
  | { ok: false; errors: Array<{ code: string; message: string }> };

/** Composes the subgraphs named in a rover supergraph config, exactly as rover would. */
export function composeFromRoverConfig(configPath: string, root = process.cwd()): CompositionOutcome {
  const absolute = resolve(root, configPath);
  const config = YAML.parse(readFileSync(absolute, 'utf8')) as RoverConfig;
  if (!config?.subgraphs || typeof config.subgraphs !== 'object') {
    return { ok: false, errors: [{ code: INVALID_COMPOSITION_CONFIG, message: `${configPath}: no "subgraphs" map` }] };
  }
  const services = Object.entries(config.subgraphs).map(([name, subgraph]) => {
    const file = resolve(dirname(absolute), subgraph.schema.file);
    return { name, url: subgraph.routing_url, typeDefs: parse(readFileSync(file, 'utf8')) };
  });
  const result = composeServices(services);
  if (result.errors) {
    return {
      ok: false,
      errors: result.errors.map((error) => ({
        code: String(error.extensions?.code ?? 'COMPOSITION_ERROR'),
        message: error.message,
      })),
    };
  }
  return { ok: true, supergraphSdl: result.supergraphSdl.endsWith('\n') ? result.supergraphSdl : `${result.supergraphSdl}\n` };
}

/** Where the router's public schema (both supergraphs' API schemas merged) is written. */
export const PUBLIC_SCHEMA_FILE = 'schema/public.graphql';

/** The router's public schema, printed from the composed identity and commerce SDLs. */
export function printRouterSchema(supergraphSdls: Record<SupergraphName, string>): string {
  const table = buildRoutingTable(
    Object.fromEntries(Object.entries(supergraphSdls).map(([name, sdl]) => [name, buildApiSchema(sdl)])) as Record<SupergraphName, GraphQLSchema>,
  );
  return `${printPublicSchema(table)}\n`;
}
