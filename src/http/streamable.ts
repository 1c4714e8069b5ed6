// MCP Streamable HTTP on /mcp, stateless: every POST carries its own token and
// gets a fresh server bound to that caller, so any instance can serve any request.

import type { IncomingMessage, ServerResponse } from 'node:http';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { createMcpServer } from '../tools/index.js';
import type { ToolContext } from '../tools/context.js';

export async function handleStreamablePost(req: IncomingMessage, res: ServerResponse, body: unknown, ctx: ToolContext): Promise<void> {
  const server = createMcpServer(ctx);
  const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined, enableJsonResponse: true });
  res.on('close', () => {
    void transport.close();
    void server.close();
  });
  await server.connect(transport);
  await transport.handleRequest(req, res, body);
}
