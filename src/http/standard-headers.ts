// The standard request headers of MCP's 2026-07-28 revision, as a server must
// check them: every request names its protocol version (MCP-Protocol-Version)
// and its method (Mcp-Method), and a request that names a tool, prompt,
// resource or task repeats that name in Mcp-Name, so that proxies and load
// balancers can route on headers without reading bodies. A header that
// disagrees with the body is refused: a proxy must never route one request
// while the server runs another. (The SDK's classifier has already checked
// that the version and method headers, where present, agree with the body.)

import type { IncomingHttpHeaders } from 'node:http';
import type { InboundModernRoute } from '@modelcontextprotocol/server';

/** The body field Mcp-Name mirrors, by method. */
const NAME_SOURCE: Readonly<Record<string, string>> = {
  'tools/call': 'name',
  'prompts/get': 'name',
  'resources/read': 'uri',
  'tasks/get': 'taskId',
  'tasks/update': 'taskId',
  'tasks/cancel': 'taskId',
};

const BASE64_PREFIX = '=?base64?';
const BASE64_SUFFIX = '?=';

/** What is wrong with the request's standard headers, or undefined when they are right. Notifications need none. */
export function standardHeaderMismatch(route: InboundModernRoute, headers: IncomingHttpHeaders): string | undefined {
  if (route.messageKind !== 'request') return undefined;
  const { method, params } = route.message;
  if (typeof headers['mcp-protocol-version'] !== 'string') {
    return `Bad Request: the request headers and body disagree: the body names protocol version ${route.classification.revision ?? '(none)'} but the required MCP-Protocol-Version header is absent`;
  }
  if (typeof headers['mcp-method'] !== 'string') {
    return `Bad Request: the request headers and body disagree: the body names method ${method} but the required Mcp-Method header is absent`;
  }
  const field = NAME_SOURCE[method];
  if (field === undefined) return undefined;
  const raw = params !== null && typeof params === 'object' ? (params as Record<string, unknown>)[field] : undefined;
  const bodyValue = typeof raw === 'string' ? raw : undefined;
  const nameHeader = headers['mcp-name'];
  if (typeof nameHeader !== 'string') {
    return bodyValue === undefined ? undefined : `Bad Request: the request headers and body disagree: the body carries params.${field} but the required Mcp-Name header is absent`;
  }
  const decoded = decodeHeaderValue(nameHeader.trim());
  if (decoded === undefined) return 'Bad Request: the Mcp-Name header carries an invalid Base64 value (=?base64?…?= must hold canonical Base64 of UTF-8 text)';
  if (bodyValue !== undefined && decoded !== bodyValue) {
    return `Bad Request: the request headers and body disagree: the Mcp-Name header does not name the params.${field} of the body`;
  }
  return undefined;
}

/** A header value as sent: plain, or `=?base64?…?=` around the Base64 of UTF-8 text (for names HTTP headers cannot carry). undefined: not valid. */
export function decodeHeaderValue(value: string): string | undefined {
  if (!(value.startsWith(BASE64_PREFIX) && value.endsWith(BASE64_SUFFIX) && value.length >= BASE64_PREFIX.length + BASE64_SUFFIX.length)) return value;
  const b64 = value.slice(BASE64_PREFIX.length, value.length - BASE64_SUFFIX.length);
  const bytes = Buffer.from(b64, 'base64');
  // Buffer skips what is not Base64; only the canonical encoding of its own bytes is accepted.
  if (bytes.toString('base64') !== b64) return undefined;
  const text = new TextDecoder('utf-8', { fatal: true });
  try {
    return text.decode(bytes);
  } catch {
    return undefined;
  }
}
