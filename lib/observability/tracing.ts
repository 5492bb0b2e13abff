import { context, propagation, trace, type Tracer } from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { Resource } from '@opentelemetry/resources';
import { AlwaysOffSampler, AlwaysOnSampler, BatchSpanProcessor, NodeTracerProvider, ParentBasedSampler } from '@opentelemetry/sdk-trace-node';

export interface TracingOptions {
  /** `service.name` of every span, e.g. `router`, `gateway-commerce`, `subgraph-orders`. */
  serviceName: string;
  /** `service.instance.id`, e.g. `orders-1`. @default serviceName */
  instanceId?: string;
  /** OTLP/HTTP endpoint (`/v1/traces` is appended); without it nothing is exported. */
  endpoint?: string;
}

export interface Tracing {
  /** Whether spans are recorded and exported. */
  readonly exporting: boolean;
  /** Exports what is buffered and stops; idempotent. */
  shutdown(): Promise<void>;
}

/** The tracer every component's spans come from (@apollo/gateway's own spans share the provider). */
export const tracer: Tracer = trace.getTracer('resilient-supergraph');

let started: Tracing | undefined;

/** Whether spans are recorded and exported in this process (startTracing with an endpoint). */
export function isExportingTraces(): boolean {
  return started?.exporting === true;
}

/**
 * Installs OpenTelemetry tracing once per process, when there is somewhere to export to: every
 * trace a client did not mark unsampled is then recorded and batched to the OTLP/HTTP endpoint as
 * JSON, its context carried across awaits by OpenTelemetry's AsyncLocalStorage context manager.
 * Without an endpoint nothing of OpenTelemetry is installed: that context manager's promise hook
 * cost a third of the router's CPU per request, to carry ids nobody records. W3C trace context is
 * then passed on explicitly by each request's record (requestTelemetry.ts: `traceHeaders`), so the
 * request logs of all three tiers still share a trace id.
 */
export function startTracing(options: TracingOptions): Tracing {
  if (started) return started;
  const exporting = Boolean(options.endpoint);
  if (!exporting) return (started = { exporting, shutdown: async () => {} });
  const provider = new NodeTracerProvider({
    resource: new Resource({ 'service.name': options.serviceName, 'service.instance.id': options.instanceId ?? options.serviceName }),
    sampler: exporting ? new ParentBasedSampler({ root: new AlwaysOnSampler() }) : new AlwaysOffSampler(),
    spanProcessors: exporting
      ? [new BatchSpanProcessor(new OTLPTraceExporter({ url: `${options.endpoint!.replace(/\/+$/, '')}/v1/traces` }), { scheduledDelayMillis: batchDelayMs() })]
      : [],
  });
  provider.register({ propagator: new W3CTraceContextPropagator() });
  let stopping: Promise<void> | undefined;
  started = {
    exporting,
    shutdown: () => (stopping ??= provider.shutdown().catch(() => {})),
  };
  return started;
}

/** OTEL_BSP_SCHEDULE_DELAY as the SDK reads it (tests shorten it); 5 s otherwise. */
function batchDelayMs(): number {
  const value = Number(process.env.OTEL_BSP_SCHEDULE_DELAY);
  return Number.isFinite(value) && value > 0 ? value : 5_000;
}

/** Adds `traceparent` (and `tracestate`) of the active span to outgoing headers. */
export function withTraceHeaders(headers: Record<string, string>): Record<string, string> {
  propagation.inject(context.active(), headers);
  return headers;
}
