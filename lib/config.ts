import { readFileSync } from 'node:fs';
import { checkedConfigSchema, port, type Config } from './config/configSchema.ts';
import { deepMerge, envNameOf, fromEnv } from './config/configEnvironment.ts';
import { graphiqlEnvironmentDefaults } from './config/graphiqlConfig.ts';

export type { Config } from './config/configSchema.ts';
export type { FallbackPolicy } from './fallback/staleIfError.ts';

/**
 * One typed, validated configuration for every component. Values come from an optional JSON file
 * (`CONFIG_FILE`) and are overridden by environment variables; a bad value stops start-up with a
 * message that names the key and the variable to fix.
 */
export class ConfigError extends Error {
  override name = 'ConfigError';
}

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
  const result = checkedConfigSchema.safeParse(deepMerge(deepMerge(graphiqlEnvironmentDefaults(env), fileValues), fromEnv(env)));
  if (!result.success) {
    const problems = result.error.issues.map((issue) => {
      const name = envNameOf(issue.path);
      return `${issue.path.join('.') || '(root)'}${name ? ` (${name})` : ''}: ${issue.message}`;
    });
    throw new ConfigError(`invalid configuration:\n  ${problems.join('\n  ')}`);
  }
  return result.data;
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
