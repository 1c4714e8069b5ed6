// The OpenTelemetry SDK behind the call tracer: a tracer provider of this
// gateway's own (never registered globally, so two gateways in one process keep
// theirs apart), its sampler, and a batching OTLP/HTTP exporter. Imported only
// by startTracing (tracing.ts), when an OTLP endpoint is set.

import { ExportResultCode, W3CTraceContextPropagator } from '@opentelemetry/core';
import { OTLPTraceExporter as OTLPJsonExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { OTLPTraceExporter as OTLPProtobufExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { AlwaysOffSampler, AlwaysOnSampler, BasicTracerProvider, BatchSpanProcessor, ParentBasedSampler, TraceIdRatioBasedSampler, type Sampler, type SpanExporter } from '@opentelemetry/sdk-trace-base';
import type { TracingConfig } from '../config/index.js';
import type { Logger } from '../logger.js';
import { createCallTracer, type Tracing } from './tracing.js';

const INSTRUMENTATION_SCOPE = 'falkordb-mcp-gateway';
/** A receiver that keeps refusing is logged at most this often. */
const FAILURE_LOG_INTERVAL_MS = 60_000;

function samplerOf(config: TracingConfig): Sampler {
  const root = (name: string): Sampler => (name.endsWith('always_off') ? new AlwaysOffSampler() : name.endsWith('traceidratio') ? new TraceIdRatioBasedSampler(config.ratio) : new AlwaysOnSampler());
  return config.sampler.startsWith('parentbased_') ? new ParentBasedSampler({ root: root(config.sampler) }) : root(config.sampler);
}

/** Where the URL's credentials and query are left out: the log names the collector, not its keys. */
function shownUrl(url: string): string {
  const u = new URL(url);
  return `${u.protocol}//${u.host}${u.pathname}`;
}

/**
 * The exporter, with its failures logged (at most once a minute): the SDK itself
 * would tell only its global diagnostic logger, which nobody reads.
 */
function loggingFailures(exporter: SpanExporter, url: string, logger: Logger): SpanExporter {
  let lastLogged = Number.NEGATIVE_INFINITY;
  return {
    export(spans, done) {
      exporter.export(spans, (result) => {
        if (result.code !== ExportResultCode.SUCCESS && Date.now() - lastLogged >= FAILURE_LOG_INTERVAL_MS) {
          lastLogged = Date.now();
          logger.warn({ endpoint: shownUrl(url), spans: spans.length, err: result.error?.message ?? 'export failed' }, 'could not send spans to the OTLP receiver; they are dropped');
        }
        done(result);
      });
    },
    shutdown: () => exporter.shutdown(),
    forceFlush: () => exporter.forceFlush?.() ?? Promise.resolve(),
  };
}

export function startTracingSdk(config: TracingConfig, version: string, logger: Logger): Tracing {
  const exporterOptions = { url: config.url, headers: { ...config.headers } };
  const exporter = config.protocol === 'http/json' ? new OTLPJsonExporter(exporterOptions) : new OTLPProtobufExporter(exporterOptions);
  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes({ ...config.resourceAttributes, 'service.name': config.serviceName, 'service.version': version }),
    sampler: samplerOf(config),
    spanProcessors: [new BatchSpanProcessor(loggingFailures(exporter, config.url, logger))],
  });
  logger.info({ endpoint: shownUrl(config.url), protocol: config.protocol, sampler: config.sampler, ratio: config.ratio }, 'tracing tool calls to an OTLP receiver');
  return {
    calls: createCallTracer(provider.getTracer(INSTRUMENTATION_SCOPE, version), new W3CTraceContextPropagator()),
    shutdown: () => provider.shutdown(),
  };
}
