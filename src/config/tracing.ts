// The OpenTelemetry variables, read the way the OpenTelemetry SDKs read them
// (https://opentelemetry.io/docs/specs/otel/configuration/sdk-environment-variables/),
// and the Config section they make: undefined, tracing off, unless an OTLP endpoint is set.

import { z } from 'zod';
import { configError } from './raw-values.js';
import type { Values } from './schema.js';
import type { TraceSampler, TracingConfig } from './types.js';

export const TRACE_SAMPLERS = ['always_on', 'always_off', 'traceidratio', 'parentbased_always_on', 'parentbased_always_off', 'parentbased_traceidratio'] as const satisfies readonly TraceSampler[];
const RATIO_SAMPLERS: readonly TraceSampler[] = ['traceidratio', 'parentbased_traceidratio'];
const DEFAULT_SERVICE_NAME = 'falkordb-mcp-gateway';

export const otlpProtocol = z
  .string()
  .trim()
  .toLowerCase()
  .transform((text, ctx): TracingConfig['protocol'] => {
    if (text === 'http/protobuf' || text === 'http/json') return text;
    const message =
      text === 'grpc'
        ? 'is grpc, which this gateway does not send: set http/protobuf and point OTEL_EXPORTER_OTLP_ENDPOINT at the collector\'s OTLP/HTTP port (4318 by default) instead of its gRPC port (4317)'
        : 'must be http/protobuf or http/json';
    ctx.issues.push({ code: 'custom', input: text, message });
    return z.NEVER;
  });

export const traceSampler = z
  .string()
  .trim()
  .toLowerCase()
  .pipe(z.enum(TRACE_SAMPLERS, { error: `must be one of ${TRACE_SAMPLERS.join(', ')}` }));

export const samplerRatio = z
  .string()
  .trim()
  .refine((v) => /^(?:\d+\.?\d*|\.\d+)(?:e-?\d+)?$/i.test(v) && Number(v) >= 0 && Number(v) <= 1, 'must be a number from 0 to 1, such as 0.01 for one trace in a hundred')
  .transform(Number);

const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

/**
 * `key=value,key=value` with percent-encoded values (the W3C Baggage form the
 * OpenTelemetry variables use). `secret`: a bad entry is named by its position, never quoted.
 */
export function keyValueList(isKey: (key: string) => boolean, what: string, secret: boolean) {
  return z.string().transform((text, ctx) => {
    const pairs: Record<string, string> = {};
    const entries = text.split(',').map((e) => e.trim()).filter((e) => e !== '');
    for (const [index, entry] of entries.entries()) {
      const eq = entry.indexOf('=');
      const key = eq < 0 ? entry : entry.slice(0, eq).trim();
      let value: string | undefined;
      try {
        value = eq < 0 ? undefined : decodeURIComponent(entry.slice(eq + 1).trim());
      } catch {
        value = undefined;
      }
      if (value === undefined || !isKey(key)) {
        const which = secret ? `an entry (number ${index + 1})` : JSON.stringify(entry.slice(0, 60));
        ctx.issues.push({ code: 'custom', input: secret ? '' : text, message: `has ${which} that is not ${what}=value (a value percent-encoded where it holds a comma, an equals sign or a percent sign)` });
        return z.NEVER;
      }
      pairs[key] = value;
    }
    return pairs;
  });
}

export const otlpHeaders = keyValueList((key) => HEADER_NAME.test(key), 'an HTTP header name', true);
export const resourceAttributes = keyValueList((key) => /^[A-Za-z0-9_.-]+$/.test(key), 'an attribute key', false);

/** `http://collector:4318` → `http://collector:4318/v1/traces`, as the OTLP exporter specification appends it. */
function tracesUrl(base: string): string {
  const url = new URL(base);
  url.pathname = `${url.pathname.replace(/\/+$/, '')}/v1/traces`;
  return url.toString();
}

/** The tracing section of Config; undefined when no endpoint is set or OTEL_SDK_DISABLED is true. */
export function tracingConfig(v: Values): TracingConfig | undefined {
  const sampler = v.OTEL_TRACES_SAMPLER;
  if (v.OTEL_TRACES_SAMPLER_ARG !== undefined && !RATIO_SAMPLERS.includes(sampler)) {
    throw configError(
      'OTEL_TRACES_SAMPLER_ARG',
      String(v.OTEL_TRACES_SAMPLER_ARG),
      `is read only with OTEL_TRACES_SAMPLER=traceidratio or parentbased_traceidratio, but the sampler is ${sampler}, which would trace every call it sees; set one of those two, or unset OTEL_TRACES_SAMPLER_ARG`,
      '0.01',
      false,
    );
  }
  const endpoint = v.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT ?? (v.OTEL_EXPORTER_OTLP_ENDPOINT === undefined ? undefined : tracesUrl(v.OTEL_EXPORTER_OTLP_ENDPOINT));
  if (endpoint === undefined || v.OTEL_SDK_DISABLED) return undefined;
  const attributes = v.OTEL_RESOURCE_ATTRIBUTES ?? {};
  return {
    url: endpoint,
    protocol: v.OTEL_EXPORTER_OTLP_PROTOCOL,
    headers: v.OTEL_EXPORTER_OTLP_HEADERS ?? {},
    sampler,
    ratio: v.OTEL_TRACES_SAMPLER_ARG ?? 1,
    serviceName: v.OTEL_SERVICE_NAME ?? attributes['service.name'] ?? DEFAULT_SERVICE_NAME,
    resourceAttributes: attributes,
  };
}
