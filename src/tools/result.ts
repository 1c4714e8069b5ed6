// The one place tool outcomes become MCP results: structuredContent plus a text
// block with the same JSON, or an error result ({"error": {code, message}} as
// both) whose message is scrubbed for the tenant. Every call passes admission
// first and leaves one record behind; an unexpected failure also one log line.

import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { GatewayError, tenantFacingMessage, toGatewayError } from '../errors.js';
import { scrubForTenant } from '../tenancy/scrub.js';
import type { ToolContext } from './context.js';

/** The JSON text of results already serialised to measure them, so it is made once. */
const texts = new WeakMap<object, string>();

export function toolSuccess(structured: Record<string, unknown>): CallToolResult {
  return { content: [{ type: 'text', text: texts.get(structured) ?? JSON.stringify(structured) }], structuredContent: structured };
}

interface RowsResult {
  rows: unknown[];
  rowCount: number;
  truncated: boolean;
}

/**
 * The result cut to the whole rows that fit in `maxBytes` of JSON (MAX_RESULT_BYTES), marked
 * truncated; RESULT_TOO_LARGE when not even the first row fits. A result within the limit is
 * serialised once, here, and that text is the one sent.
 */
export function fitRows<T extends RowsResult>(result: T, maxBytes: number): T {
  const text = JSON.stringify(result);
  if (text.length <= maxBytes / 3 || Buffer.byteLength(text, 'utf8') <= maxBytes) {
    texts.set(result, text);
    return result;
  }
  let used = Buffer.byteLength(JSON.stringify({ ...result, rows: [], truncated: true }), 'utf8');
  let kept = 0;
  for (const row of result.rows) {
    const size = Buffer.byteLength(JSON.stringify(row), 'utf8') + (kept > 0 ? 1 : 0);
    if (used + size > maxBytes) break;
    used += size;
    kept += 1;
  }
  if (kept === 0) {
    throw new GatewayError(
      'RESULT_TOO_LARGE',
      `The result's first row alone is more than ${maxBytes} bytes of JSON, the most this gateway returns. Return less per row: only the properties you need, or slices of long lists (list[0..100]).`,
      { limit: 'result_bytes', max: String(maxBytes) },
    );
  }
  return { ...result, rows: result.rows.slice(0, kept), rowCount: kept, truncated: true };
}

export function toolFailure(error: unknown, ctx: ToolContext, callerInput = ''): CallToolResult {
  const e = toGatewayError(error);
  const message = scrubForTenant(tenantFacingMessage(e), ctx.principal.tenant, { callerInput, untrusted: e.details.origin === 'database' });
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
