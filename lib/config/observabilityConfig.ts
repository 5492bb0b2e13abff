import { dirname, join } from 'node:path';
import { z } from 'zod';
import { ConfigError } from '../config.ts';

/**
 * Observability settings: traces, metric cardinality, the operation record schema:check replays, and
 * hot reload of supergraphs. Read from the environment on its own (the OpenTelemetry variables are
 * the standard ones) so it can be mounted into the main config later without changing a variable.
 */
const onOff = z.enum(['on', 'off']);
export const observabilityConfigSchema = z.object({
  /** OTLP/HTTP endpoint (e.g. http://127.0.0.1:4318); traces are exported only when set. */
  otlpEndpoint: z.string().url().optional(),
  /** `service.name` of the spans. @default the component name */
  serviceName: z.string().min(1).optional(),
  /** Distinct operation names the metrics keep as labels; later ones are folded into `other`. @default 200 */
  maxOperationNames: z.coerce.number().int().positive().max(10_000).default(200),
  /** Record every distinct operation (signature, name, last seen) for schema:check. @default "on" */
  recordOperations: onOff.default('on'),
  /** Where the router writes the record when it has no Redis. @default recorded-operations.json beside the database */
  recordedOperationsFile: z.string().min(1),
  /** Distinct operations kept. @default 1000 */
  recordedOperationsMax: z.coerce.number().int().positive().default(1_000),
  /** Watch the composed supergraph files and switch to a new one without a restart. @default "on" */
  hotReload: onOff.default('on'),
  /** How often the watched files are looked at. @default 1000 */
  hotReloadIntervalMs: z.coerce.number().int().positive().default(1_000),
});

export type ObservabilityConfig = z.infer<typeof observabilityConfigSchema>;

const VARIABLES: Record<keyof ObservabilityConfig, string> = {
  otlpEndpoint: 'OTEL_EXPORTER_OTLP_ENDPOINT',
  serviceName: 'OTEL_SERVICE_NAME',
  maxOperationNames: 'METRICS_MAX_OPERATION_NAMES',
  recordOperations: 'RECORD_OPERATIONS',
  recordedOperationsFile: 'RECORDED_OPERATIONS_FILE',
  recordedOperationsMax: 'RECORDED_OPERATIONS_MAX',
  hotReload: 'SUPERGRAPH_HOT_RELOAD',
  hotReloadIntervalMs: 'SUPERGRAPH_HOT_RELOAD_INTERVAL_MS',
};

/** Reads the observability settings; a bad value throws a ConfigError naming its variable. */
export function loadObservabilityConfig(env: NodeJS.ProcessEnv = process.env): ObservabilityConfig {
  const values: Record<string, string | undefined> = {};
  for (const [key, variable] of Object.entries(VARIABLES)) values[key] = env[variable] || undefined;
  values.recordedOperationsFile ??= join(dirname(env.DATABASE_PATH || 'data/supergraph.db'), 'recorded-operations.json');
  const result = observabilityConfigSchema.safeParse(values);
  if (!result.success) {
    const problems = result.error.issues.map((issue) => `${String(issue.path[0])} (${VARIABLES[issue.path[0] as keyof ObservabilityConfig]}): ${issue.message}`);
    throw new ConfigError(`invalid configuration:\n  ${problems.join('\n  ')}`);
  }
  return result.data;
}
