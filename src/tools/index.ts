// Builds the MCP server callers talk to: the six tools, bound to one caller's
// context or, for stateless HTTP, to the context of each call's caller.

import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import type { RequestHandlerExtra } from '@modelcontextprotocol/sdk/shared/protocol.js';
import type { ServerNotification, ServerRequest } from '@modelcontextprotocol/sdk/types.js';
import { AjvJsonSchemaValidator } from '@modelcontextprotocol/sdk/validation/ajv';
import { z } from 'zod';
import type { ToolContext } from './context.js';
import type { ToolDefinition } from './definition.js';
import { deleteGraphTool } from './delete-graph.js';
import { graphSchemaTool } from './graph-schema.js';
import { healthTool } from './health.js';
import { listGraphsTool } from './list-graphs.js';
import { queryTool } from './query.js';
import { serverInfoTool } from './server-info.js';

export const TOOLS = [queryTool, listGraphsTool, graphSchemaTool, deleteGraphTool, serverInfoTool, healthTool] as unknown as readonly ToolDefinition[];

// Servers are built per SSE session, so what does not depend on the caller is built once:
// the tools' object schemas (the SDK would wrap each raw shape anew, and zod compiles per instance),
// and the JSON Schema validator (the SDK would build a new Ajv per server; it serves only
// elicitation, which these tools never send).
const SCHEMAS = new Map(TOOLS.map((tool) => [tool.name, { input: z.object(tool.inputSchema), output: z.object(tool.outputSchema) }]));
const JSON_SCHEMA_VALIDATOR = new AjvJsonSchemaValidator();

/** Finds the context of the caller behind one tool call. */
export type ToolContextOf = (extra: RequestHandlerExtra<ServerRequest, ServerNotification>) => ToolContext;

/** A server bound to one caller: an SSE session, stdio. */
export function createMcpServer(ctx: ToolContext): McpServer {
  return buildServer(ctx.versions.gateway, () => ctx);
}

/**
 * One server for many callers (stateless Streamable HTTP): each call's context
 * comes from `contextOf`, which finds it from the request the transport delivered.
 */
export function createSharedMcpServer(gatewayVersion: string, contextOf: ToolContextOf): McpServer {
  return buildServer(gatewayVersion, contextOf);
}

function buildServer(gatewayVersion: string, contextOf: ToolContextOf): McpServer {
  const server = new McpServer(
    { name: 'falkordb-mcp-gateway', version: gatewayVersion },
    {
      instructions: 'FalkorDB graph database tools. Every graph name you use is private to your tenant. Start with falkordb_list_graphs and falkordb_graph_schema.',
      jsonSchemaValidator: JSON_SCHEMA_VALIDATOR,
    },
  );
  for (const tool of TOOLS) {
    const schemas = SCHEMAS.get(tool.name)!;
    server.registerTool(
      tool.name,
      { title: tool.title, description: tool.description, inputSchema: schemas.input, outputSchema: schemas.output, annotations: tool.annotations },
      (args: Record<string, unknown>, extra) => tool.handler(args as never, contextOf(extra)),
    );
  }
  return server;
}
