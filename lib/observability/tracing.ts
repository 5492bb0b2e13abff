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

/**
 * Installs OpenTelemetry tracing once per process. W3C trace context is always read from requests
 * and passed on, so logs of all three tiers share a trace id even when nothing is exported: without
 * an endpoint the sampler records nothing (spans are id carriers, no allocation of span data); with
 * one, every trace a client did not mark unsampled is recorded and batched to the OTLP/HTTP endpoint
 * as JSON.
 */
export function startTracing(options: TracingOptions): Tracing {
  if (started) return started;
  const exporting = Boolean(options.endpoint);
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
