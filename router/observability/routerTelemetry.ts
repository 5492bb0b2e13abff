import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { loadObservabilityConfig, type ObservabilityConfig } from '../../lib/config/observabilityConfig.ts';
import { createRequestMetrics } from '../../lib/observability/requestMetrics.ts';
import { createUpstreamCallMetrics, type UpstreamCallMetrics } from '../../lib/observability/upstreamCallMetrics.ts';
import { createRequestTelemetry, type RequestTelemetry } from '../../lib/observability/requestTelemetry.ts';
import { createOperationRecorder, type OperationRecorder } from './operationRecorder.ts';

export interface RouterTelemetryOptions {
  /** The router's registry (served on its admin /metrics). */
  registry: Registry;
  logger: Logger;
  /** With Redis, every router writes to one shared operation record; without, to a file. */
  redisUrl?: string;
  /** @default loadObservabilityConfig() (environment) */
  observability?: ObservabilityConfig;
}

export interface RouterTelemetry {
  /** Request metrics, the request log and the operation record. */
  requests: RequestTelemetry;
  /** For the routing stage: gateway calls by supergraph and outcome. */
  gatewayCalls: UpstreamCallMetrics;
  recorder: OperationRecorder | undefined;
  /** Writes out the operation record; idempotent. */
  close(): Promise<void>;
}

/** Everything the router reports about its requests, built from the observability settings. */
export function createRouterTelemetry(options: RouterTelemetryOptions): RouterTelemetry {
  const observability = options.observability ?? loadObservabilityConfig();
  const recorder =
    observability.recordOperations === 'on'
      ? createOperationRecorder({
          sink: options.redisUrl ? { kind: 'redis', url: options.redisUrl } : { kind: 'file', path: observability.recordedOperationsFile },
          max: observability.recordedOperationsMax,
          logger: options.logger,
        })
      : undefined;
  return {
    requests: createRequestTelemetry({
      metrics: createRequestMetrics(options.registry, observability.maxOperationNames),
      logger: options.logger,
      record: recorder && ((document, name, type) => recorder.record(document, name, type)),
    }),
    gatewayCalls: createUpstreamCallMetrics(options.registry),
    recorder,
    close: async () => recorder?.close(),
  };
}
