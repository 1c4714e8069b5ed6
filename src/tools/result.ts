// The one place tool outcomes become MCP results: structuredContent plus a text
// block with the same JSON, or an error result whose text is scrubbed for the
// tenant. Every call passes admission first and leaves one record behind.

import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { toGatewayError } from '../errors.js';
import { scrubForTenant } from '../tenancy/scrub.js';
import type { ToolContext } from './context.js';

export function toolSuccess(structured: Record<string, unknown>): CallToolResult {
  return { content: [{ type: 'text', text: JSON.stringify(structured) }], structuredContent: structured };
}

export function toolFailure(error: unknown, ctx: ToolContext, callerInput = ''): CallToolResult {
  const e = toGatewayError(error);
  const message = scrubForTenant(e.message, ctx.principal.tenant, { callerInput, untrusted: e.details.origin === 'database' });
  return { isError: true, content: [{ type: 'text', text: JSON.stringify({ error: { code: e.code, message } }) }] };
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
    record('error', { errorCode: toGatewayError(error).code });
    return toolFailure(error, ctx, call.callerInput ?? '');
  } finally {
    end?.();
  }
}
