import { readFileSync } from 'node:fs';
import { ConfigError } from './config/configError.ts';
import { checkedConfigSchema, port, type Config } from './config/configSchema.ts';
import { deepMerge, envNameOf, fromEnv, type TopologyNames } from './config/configEnvironment.ts';
import { graphiqlEnvironmentDefaults } from './config/graphiqlConfig.ts';
import { DEFAULT_TOPOLOGY_FILE, loadTopology, subgraphsOf, type Topology } from './topology/loadTopology.ts';

export type { Config } from './config/configSchema.ts';
export { ConfigError } from './config/configError.ts';
export type { FallbackPolicy } from './fallback/staleIfError.ts';

/**
 * One typed, validated configuration for every component. The topology file (`TOPOLOGY_FILE`, the
 * reference deployment by default) gives the defaults of what is deployed where; an optional JSON file
 * (`CONFIG_FILE`) and then environment variables override single values. A bad value stops start-up
 * with a message that names the key and the variable to fix.
 */

/** Reads, merges and validates the configuration; throws ConfigError naming every bad key. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  let fileValues: Record<string, unknown> = {};
  if (env.CONFIG_FILE) {
    try {
      fileValues = JSON.parse(readFileSync(env.CONFIG_FILE, 'utf8'));
    } catch (error) {
      throw new ConfigError(`CONFIG_FILE ${env.CONFIG_FILE}: ${(error as Error).message}`);
    }
  }
  const topology = loadTopology(env.TOPOLOGY_FILE || (fileValues.topologyFile as string | undefined) || DEFAULT_TOPOLOGY_FILE);
  const names: TopologyNames = { supergraphs: Object.keys(topology.supergraphs), subgraphs: subgraphsOf(topology).map((s) => s.subgraph) };
  const layers = [topologyDefaults(topology), graphiqlEnvironmentDefaults(env), fileValues, fromEnv(env, names)];
  const result = checkedConfigSchema.safeParse(layers.reduce(deepMerge));
  if (!result.success) {
    const problems = result.error.issues.map((issue) => {
      const name = envNameOf(issue.path, names);
      return `${issue.path.join('.') || '(root)'}${name ? ` (${name})` : ''}: ${issue.message}`;
    });
    throw new ConfigError(`invalid configuration:\n  ${problems.join('\n  ')}`);
  }
  return { ...result.data, topology };
}

/** What the topology file says, as config values: the layer every other one overrides. */
function topologyDefaults(topology: Topology): Record<string, unknown> {
  const supergraphs = Object.values(topology.supergraphs);
  const subgraphs = supergraphs.flatMap((s) => Object.entries(s.subgraphs));
  return {
    router: {
      port: topology.router.port,
      gatewayUrls: Object.fromEntries(supergraphs.map((s) => [s.name, s.gateways])),
    },
    gateway: { subgraphUrls: Object.fromEntries(subgraphs.flatMap(([name, s]) => (s.replicas ? [[name, s.replicas]] : []))) },
    fallback: {
      subgraphs: Object.fromEntries(subgraphs.map(([name, s]) => [name, s.fallback])),
      supergraphs: Object.fromEntries(supergraphs.map((s) => [s.name, s.fallback])),
    },
  };
}

/** The shared secret, or a ConfigError saying how to set it. */
export function requireInternalSecret(config: Config): string {
  if (!config.internalSecret) {
    throw new ConfigError('invalid configuration:\n  internalSecret: required (set INTERNAL_SECRET, at least 16 characters)');
  }
  return config.internalSecret;
}

/**
 * The secrets a gateway or subgraph verifies the router's signature with: the current one, and the
 * previous one while a rotation is under way.
 */
export function internalSecrets(config: Config): string[] {
  const current = requireInternalSecret(config);
  return config.internalSecretPrevious ? [current, config.internalSecretPrevious] : [current];
}

/**
 * The port a component listens on: `PORT` (or `variable`, e.g. `ADMIN_PORT` for the admin listener)
 * wins over the configured default.
 */
export function listenPort(env: NodeJS.ProcessEnv, fallback: number, variable: 'PORT' | 'ADMIN_PORT' = 'PORT'): number {
  const value = env[variable];
  if (value === undefined || value === '') return fallback;
  const parsed = port.safeParse(value);
  if (!parsed.success) throw new ConfigError(`invalid configuration:\n  ${variable}: ${parsed.error.issues[0].message}`);
  return parsed.data;
}
