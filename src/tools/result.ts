// The one place tool outcomes become MCP results: structuredContent plus a text
// block with the same JSON, or an error result ({"error": {code, message}} as
// both) whose message is scrubbed for the tenant. Every call passes admission
// first and leaves one record behind; an unexpected failure also one log line.

import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { toGatewayError, type GatewayError } from '../errors.js';
import { scrubForTenant } from '../tenancy/scrub.js';
import type { ToolContext } from './context.js';

export function toolSuccess(structured: Record<string, unknown>): CallToolResult {
  return { content: [{ type: 'text', text: JSON.stringify(structured) }], structuredContent: structured };
}

export function toolFailure(error: unknown, ctx: ToolContext, callerInput = ''): CallToolResult {
  const e = toGatewayError(error);
  const message = scrubForTenant(e.message, ctx.principal.tenant, { callerInput, untrusted: e.details.origin === 'database' });
  const structured = { error: { code: e.code, message } };
  return { isError: true, content: [{ type: 'text', text: JSON.stringify(structured) }], structuredContent: structured };
}

export interface ToolCall {
  tool: string;
  graph?: string;
  query?: string;
  /** Set by the handler once it knows whether the query writes. */
  write?: boolean;
  /** Everything the caller typed, so scrubbing never hides their own words. */
  callerInput?: string;
}

/**
 * Logs a failure that is not one of the gateway's own (a bug, an unforeseen
 * library error) once, with the request id, message and stack: the caller
 * sees only INTERNAL. Never the call's arguments.
 */
function logUnexpected(ctx: ToolContext, tool: string, failure: GatewayError): void {
  const cause = failure.cause ?? failure;
  // pino writes an Error under `err` as its type, message and stack.
  const err = cause instanceof Error ? cause : { type: typeof cause, message: String(cause) };
  ctx.logger.error({ requestId: ctx.requestId, tenant: ctx.principal.tenant, tool, err }, 'tool call failed unexpectedly');
}

/** Runs a handler, turning any failure into a scrubbed tool error. */
export async function runTool(ctx: ToolContext, call: ToolCall, body: () => Promise<Record<string, unknown>>): Promise<CallToolResult> {
  const started = performance.now();
  const end = ctx.beginCall?.();
  const record = (outcome: 'success' | 'error', extra: { errorCode?: string; rowCount?: number }) =>
    ctx.recordCall?.({
      tool: call.tool,
      ...(call.graph === undefined ? {} : { graph: call.graph }),
      ...(call.query === undefined ? {} : { query: call.query }),
      ...(call.write === undefined ? {} : { write: call.write }),
      outcome,
      ...extra,
      durationMs: Math.round((performance.now() - started) * 1000) / 1000,
    });
  try {
    await ctx.admitCall?.();
    const structured = await body();
    record('success', typeof structured['rowCount'] === 'number' ? { rowCount: structured['rowCount'] } : {});
    return toolSuccess(structured);
  } catch (error) {
    const failure = toGatewayError(error);
    if (failure.code === 'INTERNAL') logUnexpected(ctx, call.tool, failure);
    record('error', { errorCode: failure.code });
    return toolFailure(failure, ctx, call.callerInput ?? '');
  } finally {
    end?.();
  }
}
