// Builds the MCP server callers talk to: the six tools, bound to one caller's
// context or, for stateless HTTP, to the context of each call's caller.
//
// tools/list and tools/call are answered here rather than by McpServer.registerTool,
// so that a call with bad arguments gets the same tool error as every other
// failure (INVALID_ARGUMENT naming the field and the rule, audited like any
// call) instead of the SDK's plain-text "MCP error -32602: Input validation error".

import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { toJsonSchemaCompat } from '@modelcontextprotocol/sdk/server/zod-json-schema-compat.js';
import type { RequestHandlerExtra } from '@modelcontextprotocol/sdk/shared/protocol.js';
import { CallToolRequestSchema, ListToolsRequestSchema, type CallToolResult, type ServerNotification, type ServerRequest, type Tool } from '@modelcontextprotocol/sdk/types.js';
import { AjvJsonSchemaValidator } from '@modelcontextprotocol/sdk/validation/ajv';
import { z } from 'zod';
import { GatewayError } from '../errors.js';
import { PRODUCT_ID } from '../product.js';
import { describeArgumentIssues } from './arguments.js';
import type { ToolContext } from './context.js';
import type { ToolDefinition } from './definition.js';
import { deleteGraphTool } from './delete-graph.js';
import { graphSchemaTool } from './graph-schema.js';
import { healthTool } from './health.js';
import { listGraphsTool } from './list-graphs.js';
import { queryTool } from './query.js';
import { runTool, toolFailure } from './result.js';
import { serverInfoTool } from './server-info.js';

export const TOOLS = [queryTool, listGraphsTool, graphSchemaTool, deleteGraphTool, serverInfoTool, healthTool] as unknown as readonly ToolDefinition[];

/** What every failed call's structuredContent is: `{error: {code, message}}`. */
const ERROR_RESULT_SCHEMA = {
  type: 'object',
  properties: { code: { type: 'string' }, message: { type: 'string' } },
  required: ['code', 'message'],
  additionalProperties: false,
} as const;

/**
 * The tool's output schema as JSON Schema, widened to admit the error result
 * too: clients (the SDK's among them) check structuredContent against it even
 * when isError is set. Still one object type whose properties all have their
 * types; which ones are required says `anyOf`: the success fields, or `error`.
 */
function outputJsonSchema(shape: z.ZodRawShape): Tool['outputSchema'] {
  const success = toJsonSchemaCompat(z.object(shape), { strictUnions: true, pipeStrategy: 'output' }) as Record<string, unknown> & { properties?: Record<string, unknown>; required?: string[] };
  const { required = [], properties = {}, ...rest } = success;
  return {
    ...rest,
    type: 'object',
    properties: { ...properties, error: ERROR_RESULT_SCHEMA },
    anyOf: [{ required }, { required: ['error'] }],
  } as Tool['outputSchema'];
}

// Built once: servers are built per SSE session, and the JSON Schemas never change.
// The JSON Schema validator likewise (the SDK would build a new Ajv per server;
// it serves only elicitation, which these tools never send).
const REGISTRY = new Map(
  TOOLS.map((tool) => {
    const input = z.object(tool.inputSchema);
    const listed: Tool = {
      name: tool.name,
      title: tool.title,
      description: tool.description,
      inputSchema: toJsonSchemaCompat(input, { strictUnions: true, pipeStrategy: 'input' }) as Tool['inputSchema'],
      outputSchema: outputJsonSchema(tool.outputSchema),
      annotations: tool.annotations,
    };
    return [tool.name, { tool, input, listed }] as const;
  }),
);
const TOOL_LIST = { tools: [...REGISTRY.values()].map((entry) => entry.listed) };
const JSON_SCHEMA_VALIDATOR = new AjvJsonSchemaValidator();

type Extra = RequestHandlerExtra<ServerRequest, ServerNotification>;

/** Finds the context of the caller behind one tool call. */
export type ToolContextOf = (extra: Extra) => ToolContext;

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

/**
 * The id of the HTTP request behind a call: the context's own (stateless HTTP),
 * else the X-Request-Id the listener set on the request that carried it (an SSE
 * session's POST), else, over stdio, the JSON-RPC id.
 */
function requestIdOf(ctx: ToolContext, extra: Extra): string {
  if (ctx.requestId !== undefined) return ctx.requestId;
  const header = extra.requestInfo?.headers['x-request-id'];
  return typeof header === 'string' ? header : `rpc-${String(extra.requestId)}`;
}

/** Runs one tools/call: arguments checked against the tool's schema first, every failure a tool error. */
async function callTool(name: string, args: Record<string, unknown>, ctx: ToolContext): Promise<CallToolResult> {
  const entry = REGISTRY.get(name);
  if (entry === undefined) {
    // Not a call of any tool: nothing to audit (and no tool name to count it under).
    return toolFailure(new GatewayError('INVALID_ARGUMENT', 'name: there is no tool of that name on this gateway; tools/list lists the tools.'), ctx);
  }
  const parsed = entry.input.safeParse(args);
  if (parsed.success) return entry.tool.handler(parsed.data, ctx);
  const text = (key: string): string | undefined => (typeof args[key] === 'string' ? (args[key] as string) : undefined);
  const graph = text('graphName');
  const query = text('query');
  const refusal = new GatewayError('INVALID_ARGUMENT', `Invalid arguments for ${name}: ${describeArgumentIssues(parsed.error.issues, args)}. The tool's inputSchema (tools/list) gives every argument.`);
  return runTool(ctx, { tool: name, ...(graph === undefined ? {} : { graph }), ...(query === undefined ? {} : { query }), callerInput: query ?? '' }, () => Promise.reject(refusal));
}

function buildServer(gatewayVersion: string, contextOf: ToolContextOf): McpServer {
  const server = new McpServer(
    { name: PRODUCT_ID, version: gatewayVersion },
    {
      instructions: 'FalkorDB graph database tools. Every graph name you use is private to your tenant. Start with falkordb_list_graphs and falkordb_graph_schema.',
      jsonSchemaValidator: JSON_SCHEMA_VALIDATOR,
    },
  );
  const lowLevel = server.server;
  lowLevel.registerCapabilities({ tools: { listChanged: false } });
  lowLevel.setRequestHandler(ListToolsRequestSchema, () => TOOL_LIST);
  lowLevel.setRequestHandler(CallToolRequestSchema, (request, extra) => {
    const ctx = contextOf(extra);
    return callTool(request.params.name, request.params.arguments ?? {}, { ...ctx, requestId: requestIdOf(ctx, extra) });
  });
  return server;
}
