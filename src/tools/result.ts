// The one place tool outcomes become MCP results: structuredContent plus a text
// block with the same JSON, or an error result ({"error": {code, message}} as
// both) whose message is scrubbed for the tenant.

import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { GatewayError, tenantFacingMessage, toGatewayError } from '../errors.js';
import { scrubForTenant } from '../tenancy/scrub.js';

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

export function toolFailure(error: unknown, tenant: string, callerInput = ''): CallToolResult {
  const e = toGatewayError(error);
  const message = scrubForTenant(tenantFacingMessage(e), tenant, { callerInput, untrusted: e.details.origin === 'database' });
  const structured = { error: { code: e.code, message } };
  return { isError: true, content: [{ type: 'text', text: JSON.stringify(structured) }], structuredContent: structured };
}
