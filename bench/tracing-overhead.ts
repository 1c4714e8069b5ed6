// What tracing adds to one tool call in the gateway's own code, measured in a
// loop without I/O: `npx tsx bench/tracing-overhead.ts`. Off is what callTool
// does when no OTLP endpoint is set (one optional call on an absent tracer);
// the others start and end a call's span the way callTool does, with the SDK's
// sampler and an exporter that drops what it gets.

import { trace } from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { AlwaysOnSampler, BasicTracerProvider, ParentBasedSampler, SimpleSpanProcessor, TraceIdRatioBasedSampler, type SpanExporter } from '@opentelemetry/sdk-trace-base';
import type { GraphOperations } from '../src/falkordb/graphs.js';
import { createCallTracer, type CallTracer, type TraceCarriers } from '../src/observability/tracing.js';

const CALLS = 2_000_000;
const ROUNDS = 5;
const graphs = {} as GraphOperations;
const start = { tool: 'falkordb_query', tenant: 'acme', graph: 'people', requestId: 'req-1' };
const outcome = { rowCount: 1 };
const carriers: TraceCarriers = { headers: { traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01' } };
const noCarriers: TraceCarriers = { headers: {} };

/** The hook callTool runs, with `tracer` absent when tracing is off. */
function hook(tracer: CallTracer | undefined, trace: TraceCarriers | undefined): GraphOperations {
  const span = tracer?.startCall(start, trace);
  const ops = span === undefined ? graphs : span.graphs(graphs);
  span?.end('success', outcome);
  return ops;
}

function nsPerCall(run: () => void, calls: number): number {
  const best: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    const began = process.hrtime.bigint();
    for (let i = 0; i < calls; i++) run();
    best.push(Number(process.hrtime.bigint() - began) / calls);
  }
  return Math.min(...best);
}

const drop: SpanExporter = { export: (_spans, done) => done({ code: 0 }), shutdown: async () => undefined };
function tracerWith(sampler: ConstructorParameters<typeof BasicTracerProvider>[0]): CallTracer {
  const provider = new BasicTracerProvider({ ...sampler, spanProcessors: [new SimpleSpanProcessor(drop)] });
  return createCallTracer(provider.getTracer('bench'), new W3CTraceContextPropagator());
}

const ratio = tracerWith({ sampler: new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(0.01) }) });
const always = tracerWith({ sampler: new AlwaysOnSampler() });
const noop = createCallTracer(trace.getTracer('no provider registered'), new W3CTraceContextPropagator());
let sink: unknown;
const cases: Array<[string, () => void, number]> = [
  ['no hook at all (baseline loop)', () => (sink = graphs), CALLS],
  ['off: tracer absent (the default)', () => (sink = hook(undefined, undefined)), CALLS],
  ['off: tracer absent, carriers object built', () => (sink = hook(undefined, { meta: undefined, headers: carriers.headers })), CALLS],
  ['the API\'s no-op tracer (no SDK)', () => (sink = hook(noop, noCarriers)), CALLS / 4],
  ['on, 1 % (parentbased_traceidratio), no traceparent', () => (sink = hook(ratio, noCarriers)), CALLS / 10],
  ['on, sampled: always_on, span exported, graphs wrapped', () => (sink = hook(always, carriers)), CALLS / 20],
];
for (const [name, run, calls] of cases) console.log(`${name.padEnd(52)} ${nsPerCall(run, calls).toFixed(1).padStart(8)} ns/call`);
void sink;
