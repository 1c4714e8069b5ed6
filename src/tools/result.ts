// The one place tool outcomes become MCP results: structuredContent plus a text
// block with the same JSON, or an error result ({"error": {code, message}} as
// both) whose message is scrubbed for the tenant.

import type { CallToolResult } from '@modelcontextprotocol/server';
import { tenantFacingMessage, toGatewayError } from '../errors.js';
import { scrubForTenant } from '../tenancy/scrub.js';
import { resultText } from './result-size.js';

export function toolSuccess(structured: Record<string, unknown>): CallToolResult {
  return { content: [{ type: 'text', text: resultText(structured) }], structuredContent: structured };
}

export function toolFailure(error: unknown, tenant: string, callerInput = ''): CallToolResult {
  const e = toGatewayError(error);
  const message = scrubForTenant(tenantFacingMessage(e), tenant, { callerInput, untrusted: e.details.origin === 'database' });
  const structured = { error: { code: e.code, message } };
  return { isError: true, content: [{ type: 'text', text: JSON.stringify(structured) }], structuredContent: structured };
}
