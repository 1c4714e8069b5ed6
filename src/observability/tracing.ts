// One span per tool call, parented by the caller's W3C trace context: the
// request's `params._meta` (MCP 2026-07-28, SEP-414) first, else the HTTP
// request's `traceparent`/`tracestate` headers. Only @opentelemetry/api here;
// the SDK and the exporter (tracing-sdk.ts) are loaded by startTracing alone,
// so a gateway without an OTLP endpoint loads none of it and its calls do no tracing work at all.
//
// What a span holds: the tool, the tenant, the graph name as the tenant wrote it,
// the request id, the outcome and error code, the row count. Never the query,
// its parameters, a token, an error message or a database key.

import { ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, type Attributes, type Context, type Link, type Span, type TextMapGetter, type TextMapPropagator, type Tracer } from '@opentelemetry/api';
import type { TracingConfig } from '../config/index.js';
import { isGatewayError } from '../errors.js';
import type { GraphOperations } from '../falkordb/graphs.js';
import type { Logger } from '../logger.js';

/** The `_meta` keys of SEP-414 (the SDK v2's TRACEPARENT_META_KEY and TRACESTATE_META_KEY), which are also the header names. */
export const TRACEPARENT_KEY = 'traceparent';
export const TRACESTATE_KEY = 'tracestate';

/** Where a call's trace context may come from. */
export interface TraceCarriers {
  /** The request's `params._meta`. */
  readonly meta?: Readonly<Record<string, unknown>> | undefined;
  /** The headers of the HTTP request that carried it. */
  readonly headers?: Readonly<Record<string, string | string[] | undefined>> | undefined;
}

/** What a call's span is started with. */
export interface CallStart {
  tool: string;
  tenant: string;
  /** The graph named in the arguments, as the tenant wrote it. */
  graph?: string | undefined;
  requestId: string;
}

/** The span of one call, ended once with its outcome. */
export interface CallSpan {
  /** The call's graph operations, each with a child span when the call is sampled. */
  graphs(operations: GraphOperations): GraphOperations;
  end(outcome: 'success' | 'error', facts: { errorCode?: string; rowCount?: number }): void;
}

/** Starts the spans of tool calls; absent from ToolServices when tracing is off. */
export interface CallTracer {
  startCall(start: CallStart, carriers: TraceCarriers | undefined): CallSpan;
}

export interface Tracing {
  calls: CallTracer;
  /** Sends the spans still buffered and stops the exporter. */
  shutdown(): Promise<void>;
}

/** Reads only string values (or lists of them) from a carrier a client filled in. */
const GETTER: TextMapGetter<Readonly<Record<string, unknown>>> = {
  keys: (carrier) => Object.keys(carrier),
  get: (carrier, key) => {
    const value = carrier[key];
    if (typeof value === 'string') return value;
    return Array.isArray(value) && value.every((v) => typeof v === 'string') ? (value as string[]) : undefined;
  },
};

/** An unsampled call: nothing recorded, nothing wrapped. */
const UNSAMPLED: CallSpan = { graphs: (operations) => operations, end: () => undefined };

/** The graph operations whose child spans say which database command they are. */
function operationName(method: string, readOnly: boolean | undefined): string | undefined {
  if (method === 'query') return readOnly === true ? 'GRAPH.RO_QUERY' : 'GRAPH.QUERY';
  if (method === 'explain') return 'GRAPH.EXPLAIN';
  if (method === 'deleteGraph') return 'GRAPH.DELETE';
  return undefined;
}

function tracedGraphs(tracer: Tracer, parent: Context, graph: string | undefined, operations: GraphOperations): GraphOperations {
  const traced = <A extends unknown[], R>(method: keyof GraphOperations, run: (...args: A) => Promise<R>) =>
    async (...args: A): Promise<R> => {
      const first = args[0] as { readOnly?: boolean } | undefined;
      const command = operationName(method, typeof first === 'object' ? first.readOnly : undefined);
      const attributes: Attributes = { 'db.system.name': 'falkordb' };
      if (graph !== undefined && method !== 'listKeys') attributes['db.namespace'] = graph;
      if (command !== undefined) attributes['db.operation.name'] = command;
      const span = tracer.startSpan(`falkordb ${method}`, { kind: SpanKind.CLIENT, attributes }, parent);
      try {
        return await run(...args);
      } catch (error) {
        // The code only: a database message may quote the query.
        const code = isGatewayError(error) ? error.code : 'INTERNAL';
        span.setAttribute('error.type', code);
        span.setStatus({ code: SpanStatusCode.ERROR, message: code });
        throw error;
      } finally {
        span.end();
      }
    };
  return {
    query: traced('query', (q) => operations.query(q)),
    explain: traced('explain', (q) => operations.explain(q)),
    schema: traced('schema', (key, timeoutMs) => operations.schema(key, timeoutMs)),
    createConstraint: traced('createConstraint', (key, spec, timeoutMs) => operations.createConstraint(key, spec, timeoutMs)),
    dropConstraint: traced('dropConstraint', (key, spec, timeoutMs) => operations.dropConstraint(key, spec, timeoutMs)),
    deleteGraph: traced('deleteGraph', (key) => operations.deleteGraph(key)),
    listKeys: traced('listKeys', (prefix) => operations.listKeys(prefix)),
    get database() {
      return operations.database;
    },
  };
}

function hasTraceparent(carrier: Readonly<Record<string, unknown>> | undefined): carrier is Readonly<Record<string, unknown>> {
  return carrier !== undefined && GETTER.get(carrier, TRACEPARENT_KEY) !== undefined;
}

/** The parent of a call's span and, when the HTTP request had a context of its own, a link to it. */
function parentOf(propagator: TextMapPropagator, carriers: TraceCarriers | undefined): { parent: Context; links?: Link[] } {
  const { meta, headers } = carriers ?? {};
  if (hasTraceparent(meta)) {
    const parent = propagator.extract(ROOT_CONTEXT, meta, GETTER);
    // The MCP context is the parent whatever the transport; the HTTP request's is linked (semantic conventions for MCP).
    const http = hasTraceparent(headers) ? trace.getSpanContext(propagator.extract(ROOT_CONTEXT, headers, GETTER)) : undefined;
    const own = trace.getSpanContext(parent);
    return http === undefined || (own !== undefined && http.spanId === own.spanId) ? { parent } : { parent, links: [{ context: http }] };
  }
  return { parent: hasTraceparent(headers) ? propagator.extract(ROOT_CONTEXT, headers, GETTER) : ROOT_CONTEXT };
}

/** The call tracer of a tracer and propagator (the SDK's, from startTracing; tests may pass their own). */
export function createCallTracer(tracer: Tracer, propagator: TextMapPropagator): CallTracer {
  return {
    startCall(start, carriers) {
      const { parent, links } = parentOf(propagator, carriers);
      // Resources, prompts and completions run as operations named by their MCP method (resources/read, ...).
      const method = start.tool.includes('/') ? start.tool : undefined;
      const attributes: Attributes =
        method === undefined
          ? { 'mcp.method.name': 'tools/call', 'gen_ai.operation.name': 'execute_tool', 'gen_ai.tool.name': start.tool }
          : { 'mcp.method.name': method };
      attributes['falkordb_gateway.tenant'] = start.tenant;
      attributes['falkordb_gateway.request_id'] = start.requestId;
      if (start.graph !== undefined) attributes['falkordb_gateway.graph'] = start.graph;
      const span: Span = tracer.startSpan(method ?? `tools/call ${start.tool}`, { kind: SpanKind.SERVER, attributes, ...(links === undefined ? {} : { links }) }, parent);
      if (!span.isRecording()) return UNSAMPLED;
      const context = trace.setSpan(parent, span);
      return {
        graphs: (operations) => tracedGraphs(tracer, context, start.graph, operations),
        end(outcome, facts) {
          span.setAttribute('falkordb_gateway.outcome', outcome);
          if (facts.rowCount !== undefined) span.setAttribute('falkordb_gateway.row_count', facts.rowCount);
          if (outcome === 'error') {
            // A failed call is a tool result with isError: `tool_error` (semantic conventions), and the gateway's code.
            span.setAttribute('error.type', 'tool_error');
            if (facts.errorCode !== undefined) span.setAttribute('falkordb_gateway.error_code', facts.errorCode);
            span.setStatus({ code: SpanStatusCode.ERROR, message: facts.errorCode ?? 'tool_error' });
          }
          span.end();
        },
      };
    },
  };
}

/** Loads the OpenTelemetry SDK and the OTLP exporter, and starts exporting the spans of tool calls. */
export async function startTracing(config: TracingConfig, version: string, logger: Logger): Promise<Tracing> {
  const { startTracingSdk } = await import('./tracing-sdk.js');
  return startTracingSdk(config, version, logger);
}
