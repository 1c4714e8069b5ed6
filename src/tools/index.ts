// Builds the MCP server a caller talks to: the six tools, bound to its context.

import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import type { ToolContext } from './context.js';
import type { ToolDefinition } from './definition.js';
import { deleteGraphTool } from './delete-graph.js';
import { graphSchemaTool } from './graph-schema.js';
import { healthTool } from './health.js';
import { listGraphsTool } from './list-graphs.js';
import { queryTool } from './query.js';
import { serverInfoTool } from './server-info.js';

export const TOOLS = [queryTool, listGraphsTool, graphSchemaTool, deleteGraphTool, serverInfoTool, healthTool] as unknown as readonly ToolDefinition[];

export function createMcpServer(ctx: ToolContext): McpServer {
  const server = new McpServer(
    { name: 'falkordb-mcp-gateway', version: ctx.versions.gateway },
    { instructions: 'FalkorDB graph database tools. Every graph name you use is private to your tenant. Start with falkordb_list_graphs and falkordb_graph_schema.' },
  );
  for (const tool of TOOLS) {
    server.registerTool(
      tool.name,
      { title: tool.title, description: tool.description, inputSchema: tool.inputSchema, outputSchema: tool.outputSchema, annotations: tool.annotations },
      (args: Record<string, unknown>) => tool.handler(args as never, ctx),
    );
  }
  return server;
}
