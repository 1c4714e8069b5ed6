// One tools/call, top to bottom. A tool is registered once (`registerTool`):
// its JSON Schemas are made, and its `run` is wrapped with what every call
// shares, in this order:
//
//   1. in flight    the call is counted, so shutdown waits for it
//   2. admission    the tenant's rate (or, over stdio, its status): a refusal sends nothing on
//   3. arguments    checked against the tool's schema; a bad one is INVALID_ARGUMENT naming the field
//   4. run          the tool itself: scopes, graph rules, the key, its graph operations
//   5. result       structuredContent and the same JSON as text, or a tool error scrubbed for the tenant
//   6. record       one ToolCallRecord to the audit trail, metrics and usage (and the call's span, when tracing is on)
//   7. tell          the caller's own messages about the call (notifications/message), when it asked for them
//
// While it runs, a call whose request carried a progress token reports
// progress (tools/progress.ts), and a call the client cancels stops being waited
// for and its record says `cancelled` (its query keeps its slot until FalkorDB
// ends it: src/admission/concurrency.ts).
//
// An unexpected failure (not a GatewayError) is logged once with the request
// id, and the caller sees only INTERNAL.

import type { CallToolResult, Tool } from '@modelcontextprotocol/server';
import { z } from 'zod';
import { GatewayError, toGatewayError } from '../errors.js';
import type { ToolCallRecord } from '../observability/tool-call.js';
import type { CallSpan, TraceCarriers } from '../observability/tracing.js';
import { hasScope, type Scope } from '../tenancy/scopes.js';
import type { Principal } from '../tenancy/principal.js';
import { describeArgumentIssues } from './arguments.js';
import type { CallFacts, Caller, ToolContext, ToolServices } from './context.js';
import type { ToolDefinition } from './definition.js';
import { toolJsonSchema } from './json-schema.js';
import { callLogEntries, type CallLog } from './logging.js';
import { startProgress, type ProgressNotice } from './progress.js';
import { toolFailure, toolSuccess } from './result.js';

/** A tool as the MCP server holds it: its tools/list entry, and its run wrapped with its own arguments' check. */
export interface RegisteredTool {
  readonly name: string;
  readonly listed: Tool;
  readonly listedFor: Scope;
  /** Checks `args` against the tool's schema (INVALID_ARGUMENT when they do not fit), then runs it. */
  run(args: Record<string, unknown>, ctx: ToolContext, call: CallFacts): Promise<Record<string, unknown>>;
}

/** What every failed call's structuredContent is: `{error: {code, message}}`. */
const ERROR_RESULT_SCHEMA = {
  type: 'object',
  properties: { code: { type: 'string' }, message: { type: 'string' } },
  required: ['code', 'message'],
  additionalProperties: false,
} as const;

/**
 * The tool's output schema as JSON Schema, widened to admit the error result
 * too: clients (the SDK's among them) check structuredContent against it even
 * when isError is set. Still one object type whose properties all have their
 * types; which ones are required says `anyOf`: the success fields, or `error`.
 */
function outputJsonSchema(shape: z.ZodRawShape): Tool['outputSchema'] {
  const { required = [], properties = {}, ...rest } = toolJsonSchema(z.object(shape), 'output');
  return {
    ...rest,
    type: 'object',
    properties: { ...(properties as Record<string, object>), error: ERROR_RESULT_SCHEMA },
    anyOf: [{ required: required as string[] }, { required: ['error'] }],
  };
}

export function registerTool<In extends z.ZodRawShape>(tool: ToolDefinition<In>): RegisteredTool {
  const input = z.object(tool.inputSchema);
  const { type: _object, ...inputSchema } = toolJsonSchema(input, 'input');
  return {
    name: tool.name,
    listedFor: tool.listedFor,
    listed: {
      name: tool.name,
      title: tool.title,
      description: tool.description,
      inputSchema: { type: 'object', ...inputSchema },
      outputSchema: outputJsonSchema(tool.outputSchema),
      annotations: tool.annotations,
    },
    run: async (args, ctx, call) => {
      const parsed = input.safeParse(args);
      if (!parsed.success) {
        throw new GatewayError('INVALID_ARGUMENT', `Invalid arguments for ${tool.name}: ${describeArgumentIssues(parsed.error.issues, args)}. The tool's inputSchema (tools/list) gives every argument.`);
      }
      return tool.run(parsed.data, ctx, call);
    },
  };
}

/** The tools a token with these scopes sees: those listed for one of them. */
export function toolsFor(principal: Principal, tools: readonly RegisteredTool[]): RegisteredTool[] {
  return tools.filter((tool) => hasScope(principal, tool.listedFor));
}

/** What the audit records of a call before its tool runs: the graph and query named in its arguments. */
function factsOf(tool: string, args: Record<string, unknown>): CallFacts {
  const graph = typeof args['graphName'] === 'string' ? args['graphName'] : undefined;
  const query = typeof args['query'] === 'string' ? args['query'] : undefined;
  return { tool, ...(graph === undefined ? {} : { graph }), ...(query === undefined ? {} : { query }), callerInput: query ?? graph ?? '' };
}

/** The handles a tool's run gets for one call of `caller`; also what a resource subscription reads with. */
export function contextOf(services: ToolServices, caller: Caller, requestId: string, span?: CallSpan, signal?: AbortSignal): ToolContext {
  const principal = caller.principal;
  const graphs = services.graphAccess(principal);
  return {
    ...(signal === undefined ? {} : { signal }),
    principal,
    graphs: span === undefined ? graphs : span.graphs(graphs),
    limits: services.limits,
    versions: services.versions,
    logger: services.logger,
    requestId,
    graphRules: () => services.graphRules(principal),
    tenantStats: services.tenantStats,
  };
}

/**
 * Logs a failure that is not one of the gateway's own (a bug, an unforeseen
 * library error) once, with the request id, message and stack. Never the call's arguments.
 */
function logUnexpected(ctx: ToolContext, tool: string, failure: GatewayError): void {
  const cause = failure.cause ?? failure;
  // pino writes an Error under `err` as its type, message and stack.
  const err = cause instanceof Error ? cause : { type: typeof cause, message: String(cause) };
  ctx.logger.error({ requestId: ctx.requestId, tenant: ctx.principal.tenant, tool, err }, 'tool call failed unexpectedly');
}

/** What the client's connection offers a call while it runs; all absent on the direct path of a plain stateless call. */
export interface CallChannel {
  /** Aborted when the client cancels the call. */
  signal?: AbortSignal | undefined;
  /** Sends progress on the call's own stream, when the request carried a progress token. */
  progress?: { token: string | number; send(notice: ProgressNotice): Promise<void> } | undefined;
  /** Where the caller's messages about the call go, when it asked for them. */
  log?: CallLog | undefined;
}

/** What a cancelled call answers; the protocol layer sends no reply to a cancelled request, so no client reads it. */
const CANCELLED_RESULT: CallToolResult = { content: [{ type: 'text', text: 'The call was cancelled.' }], isError: true };

/** Settles with `work`, or rejects as soon as `signal` aborts (the work goes on, unwatched: its failure is caught). */
function untilCancelled<T>(work: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (signal === undefined) return work;
  work.catch(() => undefined);
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const cancelled = () => reject(signal.reason);
    signal.addEventListener('abort', cancelled, { once: true });
    work.then(resolve, reject).finally(() => signal.removeEventListener('abort', cancelled));
  });
}

/**
 * Runs one tools/call of `caller` (steps 1 to 7 at the top of this file). `tool` undefined: no tool has that name.
 * `trace`: where the caller's W3C trace context may be (the request's `_meta`, the HTTP headers), read only when tracing is on.
 */
export async function callTool(
  tool: RegisteredTool | undefined,
  args: Record<string, unknown>,
  caller: Caller,
  services: ToolServices,
  requestId: string,
  trace?: TraceCarriers,
  channel: CallChannel = {},
): Promise<CallToolResult> {
  if (tool === undefined) {
    // Not a call of any tool: nothing to admit or audit (and no tool name to count it under).
    return toolFailure(new GatewayError('INVALID_ARGUMENT', 'name: there is no tool of that name on this gateway; tools/list lists the tools.'), caller.principal.tenant);
  }
  const call = factsOf(tool.name, args);
  const span = services.tracer?.startCall({ tool: call.tool, tenant: caller.principal.tenant, graph: call.graph, requestId }, trace);
  const { signal, log } = channel;
  const ctx = contextOf(services, caller, requestId, span, signal);
  const started = performance.now();
  const end = services.inFlight.begin();
  const stopProgress = channel.progress === undefined ? undefined : startProgress(channel.progress.token, channel.progress.send);
  const record = async (outcome: ToolCallRecord['outcome'], extra: { errorCode?: string; rowCount?: number }, truncated?: boolean) => {
    stopProgress?.();
    span?.end(outcome === 'cancelled' ? 'error' : outcome, outcome === 'cancelled' ? { errorCode: 'CANCELLED' } : extra);
    const finished: ToolCallRecord = {
      tool: call.tool,
      ...(call.graph === undefined ? {} : { graph: call.graph }),
      ...(call.query === undefined ? {} : { query: call.query }),
      ...(call.write === undefined ? {} : { write: call.write }),
      outcome,
      ...extra,
      durationMs: Math.round((performance.now() - started) * 1000) / 1000,
    };
    services.record(caller, finished);
    // Before the reply, so that they come ahead of it on the call's stream; a message that cannot be sent is dropped.
    if (log !== undefined && outcome !== 'cancelled') {
      for (const entry of callLogEntries(finished, { truncated })) await log(entry).catch(() => undefined);
    }
  };
  try {
    await untilCancelled(services.admit(caller), signal);
    const structured = await untilCancelled(tool.run(args, ctx, call), signal);
    await record('success', typeof structured['rowCount'] === 'number' ? { rowCount: structured['rowCount'] } : {}, structured['truncated'] === true);
    return toolSuccess(structured);
  } catch (error) {
    if (signal?.aborted === true) {
      await record('cancelled', {});
      return CANCELLED_RESULT;
    }
    const failure = toGatewayError(error);
    if (failure.code === 'INTERNAL') logUnexpected(ctx, call.tool, failure);
    await record('error', { errorCode: failure.code });
    return toolFailure(failure, caller.principal.tenant, call.callerInput);
  } finally {
    end();
  }
}
