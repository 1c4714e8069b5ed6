// MCP Streamable HTTP on /mcp, stateless: every POST carries its own token, so
// any instance can serve any request. One long-lived MCP server per gateway
// answers every caller (CallerMultiplexer keeps their ids and contexts apart),
// and each POST gets one JSON reply: the checks and status codes are those of
// the SDK's StreamableHTTPServerTransport in JSON response mode, without
// building a server, a transport and web Request/Response objects per request.

import type { IncomingMessage, ServerResponse } from 'node:http';
import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { MAX_BATCH_SIZE } from '@modelcontextprotocol/sdk/server/requestBody.js';
import { isJsonContentType } from '@modelcontextprotocol/sdk/shared/mediaType.js';
import { JSONRPCMessageSchema, SUPPORTED_PROTOCOL_VERSIONS, type JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';
import type { Caller, ToolServices } from '../tools/context.js';
import { callerAuthInfo, createSharedMcpServer } from '../tools/index.js';
import { CallerMultiplexer, isRequest } from './caller-multiplexer.js';

export interface StreamableEndpoint {
  /** Answers one POST to /mcp whose caller is admitted and whose body is parsed. */
  handle(req: IncomingMessage, res: ServerResponse, body: unknown, caller: Caller): Promise<void>;
}

export function createStreamableEndpoint(tools: ToolServices): StreamableEndpoint {
  const transport = new CallerMultiplexer();
  const server: McpServer = createSharedMcpServer(tools);
  // The one server remembers the client info and capabilities of the last caller's
  // initialize. Nothing reads them; code that ever does must not use this server,
  // or one tenant would see another's client details.
  const connected = server.connect(transport);

  return {
    async handle(req, res, body, caller) {
      await connected;
      const messages = parseMessages(req, res, body);
      if (messages === undefined) return;
      // What the server's handlers learn of the request: its caller, and its headers (for the request id).
      const extra = { authInfo: callerAuthInfo(caller), requestInfo: { headers: req.headers } };
      if (!messages.some(isRequest)) {
        // Notifications (and responses) only: accepted, nothing to answer.
        void transport.deliver(messages, extra);
        res.writeHead(202).end();
        return;
      }
      const replies = await transport.deliver(messages, extra);
      if (res.destroyed) return;
      writeJson(res, 200, replies.length === 1 ? replies[0] : replies);
    },
  };
}

/** The POST's JSON-RPC messages, or undefined once it has been refused (status and JSON-RPC error written). */
function parseMessages(req: IncomingMessage, res: ServerResponse, body: unknown): JSONRPCMessage[] | undefined {
  const accept = req.headers.accept;
  if (accept === undefined || !accept.includes('application/json') || !accept.includes('text/event-stream')) {
    return refuse(res, 406, -32000, 'Not Acceptable: Client must accept both application/json and text/event-stream');
  }
  if (!isJsonContentType(req.headers['content-type'] ?? null)) {
    return refuse(res, 415, -32000, 'Unsupported Media Type: Content-Type must be application/json');
  }
  if (Array.isArray(body) && body.length > MAX_BATCH_SIZE) {
    return refuse(res, 400, -32600, `Invalid Request: Batch must not exceed ${MAX_BATCH_SIZE} messages`);
  }
  let messages: JSONRPCMessage[];
  try {
    messages = Array.isArray(body) ? body.map((m) => JSONRPCMessageSchema.parse(m)) : [JSONRPCMessageSchema.parse(body)];
  } catch {
    return refuse(res, 400, -32700, 'Parse error: Invalid JSON-RPC message');
  }
  // The server checks an initialize request's parameters itself; here only its place matters.
  if (messages.some((m) => isRequest(m) && m.method === 'initialize')) {
    if (messages.length > 1) return refuse(res, 400, -32600, 'Invalid Request: Only one initialization request is allowed');
  } else {
    const version = req.headers['mcp-protocol-version'];
    if (typeof version === 'string' && !SUPPORTED_PROTOCOL_VERSIONS.includes(version)) {
      return refuse(res, 400, -32000, `Bad Request: Unsupported protocol version: ${version} (supported versions: ${SUPPORTED_PROTOCOL_VERSIONS.join(', ')})`);
    }
  }
  return messages;
}

function refuse(res: ServerResponse, status: number, code: number, message: string): undefined {
  writeJson(res, status, { jsonrpc: '2.0', error: { code, message }, id: null });
  return undefined;
}

function writeJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) }).end(text);
}
