/** A configuration (environment, config file or topology file) that cannot run; its message names what to fix. */
export class ConfigError extends Error {
  override name = 'ConfigError';
}
