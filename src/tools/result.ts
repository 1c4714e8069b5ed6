// The one place tool outcomes become MCP results: structuredContent plus a text
// block with the same JSON, or an error result whose text is scrubbed for the tenant.

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

/** Runs a handler, turning any failure into a scrubbed tool error. */
export async function runTool(ctx: ToolContext, callerInput: string, body: () => Promise<Record<string, unknown>>): Promise<CallToolResult> {
  try {
    return toolSuccess(await body());
  } catch (error) {
    return toolFailure(error, ctx, callerInput);
  }
}
