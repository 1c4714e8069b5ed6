// The OpenTelemetry SDK behind the call tracer: a tracer provider of this
// gateway's own (never registered globally, so two gateways in one process keep
// theirs apart), its sampler, and a batching OTLP/HTTP exporter. Imported only
// by startTracing (tracing.ts), when an OTLP endpoint is set.

import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { OTLPTraceExporter as OTLPJsonExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { OTLPTraceExporter as OTLPProtobufExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { AlwaysOffSampler, AlwaysOnSampler, BasicTracerProvider, BatchSpanProcessor, ParentBasedSampler, TraceIdRatioBasedSampler, type Sampler } from '@opentelemetry/sdk-trace-base';
import type { TracingConfig } from '../config/index.js';
import type { Logger } from '../logger.js';
import { createCallTracer, type Tracing } from './tracing.js';

const INSTRUMENTATION_SCOPE = 'falkordb-mcp-gateway';

function samplerOf(config: TracingConfig): Sampler {
  const root = (name: string): Sampler => (name.endsWith('always_off') ? new AlwaysOffSampler() : name.endsWith('traceidratio') ? new TraceIdRatioBasedSampler(config.ratio) : new AlwaysOnSampler());
  return config.sampler.startsWith('parentbased_') ? new ParentBasedSampler({ root: root(config.sampler) }) : root(config.sampler);
}

/** Where the URL's credentials and query are left out: the log names the collector, not its keys. */
function shownUrl(url: string): string {
  const u = new URL(url);
  return `${u.protocol}//${u.host}${u.pathname}`;
}

export function startTracingSdk(config: TracingConfig, version: string, logger: Logger): Tracing {
  const exporterOptions = { url: config.url, headers: { ...config.headers } };
  const exporter = config.protocol === 'http/json' ? new OTLPJsonExporter(exporterOptions) : new OTLPProtobufExporter(exporterOptions);
  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes({ ...config.resourceAttributes, 'service.name': config.serviceName, 'service.version': version }),
    sampler: samplerOf(config),
    spanProcessors: [new BatchSpanProcessor(exporter)],
  });
  logger.info({ endpoint: shownUrl(config.url), protocol: config.protocol, sampler: config.sampler, ratio: config.ratio }, 'tracing tool calls to an OTLP receiver');
  return {
    calls: createCallTracer(provider.getTracer(INSTRUMENTATION_SCOPE, version), new W3CTraceContextPropagator()),
    shutdown: () => provider.shutdown(),
  };
}
