import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { composeServices } from '@apollo/composition';
import { parse } from 'graphql';
import YAML from 'yaml';
import { INVALID_COMPOSITION_CONFIG } from '../errors.ts';

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

