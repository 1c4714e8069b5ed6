// The MCP server callers talk to: the tools, listed for each caller's scopes
// and called through tools/call.ts. A server is bound to one caller (an SSE
// session, stdio), or shared by every stateless POST, whose caller rides in on
// the request's authInfo (`callerAuthInfo`).
//
// tools/list and tools/call are answered here rather than by McpServer.registerTool,
// so that a call with bad arguments gets the same tool error as every other
// failure (INVALID_ARGUMENT naming the field and the rule, audited like any
// call) instead of the SDK's plain-text "MCP error -32602: Input validation error".

import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import type { AuthInfo } from '@modelcontextprotocol/sdk/server/auth/types.js';
import type { RequestHandlerExtra } from '@modelcontextprotocol/sdk/shared/protocol.js';
import { CallToolRequestSchema, ListToolsRequestSchema, type ListToolsResult, type ServerNotification, type ServerRequest } from '@modelcontextprotocol/sdk/types.js';
import { AjvJsonSchemaValidator } from '@modelcontextprotocol/sdk/validation/ajv';
import type { Principal } from '../tenancy/principal.js';
import { PRODUCT_ID } from '../product.js';
import { callTool, registerTool, toolsFor, type RegisteredTool } from './call.js';
import { createConstraintTool, dropConstraintTool } from './constraints.js';
import type { Caller, ToolServices } from './context.js';
import { deleteGraphTool } from './delete-graph.js';
import { explainTool } from './explain.js';
import { graphSchemaTool } from './graph-schema.js';
import { healthTool } from './health.js';
import { listGraphsTool } from './list-graphs.js';
import { queryTool } from './query.js';
import { readQueryTool } from './read-query.js';
import { serverInfoTool } from './server-info.js';

// Registered once: servers are built per SSE session, and the JSON Schemas never change.
export const TOOLS: readonly RegisteredTool[] = [
  registerTool(queryTool),
  registerTool(readQueryTool),
  registerTool(explainTool),
  registerTool(listGraphsTool),
  registerTool(graphSchemaTool),
  registerTool(createConstraintTool),
  registerTool(dropConstraintTool),
  registerTool(deleteGraphTool),
  registerTool(serverInfoTool),
  registerTool(healthTool),
];
const BY_NAME = new Map(TOOLS.map((tool) => [tool.name, tool]));

/** tools/list answers, one per set of scopes (a token sees the tools it can use), each made once. */
const LISTS = new Map<string, ListToolsResult>();
function toolListFor(principal: Principal): ListToolsResult {
  const key = [...principal.scopes].sort().join(' ');
  let list = LISTS.get(key);
  if (list === undefined) {
    list = { tools: toolsFor(principal, TOOLS).map((tool) => tool.listed) };
    LISTS.set(key, list);
  }
  return list;
}

// The SDK would build a new Ajv per server; it serves only elicitation, which these tools never send.
const JSON_SCHEMA_VALIDATOR = new AjvJsonSchemaValidator();

type Extra = RequestHandlerExtra<ServerRequest, ServerNotification>;

/** The caller behind each stateless request, by the authInfo object the transport delivered it with. */
const CALLERS = new WeakMap<AuthInfo, Caller>();

/** The authInfo a transport delivers a caller's messages with, for a server made by createSharedMcpServer. */
export function callerAuthInfo(caller: Caller): AuthInfo {
  const { principal } = caller;
  // The token itself is not carried: nothing past authentication reads it.
  const info: AuthInfo = { token: '', clientId: principal.device ?? principal.subject, scopes: [...principal.scopes], expiresAt: principal.expiresAt };
  CALLERS.set(info, caller);
  return info;
}

/** A server bound to one caller: an SSE session, stdio. */
export function createMcpServer(services: ToolServices, caller: Caller): McpServer {
  return buildServer(services, () => caller);
}

/** One server for many callers (stateless Streamable HTTP): each request's caller comes from its authInfo. */
export function createSharedMcpServer(services: ToolServices): McpServer {
  return buildServer(services, (extra) => {
    const caller = extra.authInfo === undefined ? undefined : CALLERS.get(extra.authInfo);
    // The transport delivers every request with its caller's authInfo.
    if (caller === undefined) throw new Error('No caller is known for this request.');
    return caller;
  });
}

/**
 * The id of the HTTP request behind a call (the X-Request-Id the listener set
 * on the request that carried it), else, over stdio, the JSON-RPC id.
 */
function requestIdOf(extra: Extra): string {
  const header = extra.requestInfo?.headers['x-request-id'];
  return typeof header === 'string' ? header : `rpc-${String(extra.requestId)}`;
}

function buildServer(services: ToolServices, callerOf: (extra: Extra) => Caller): McpServer {
  const server = new McpServer(
    { name: PRODUCT_ID, version: services.versions.gateway },
    {
      instructions: 'FalkorDB graph database tools. Every graph name you use is private to your tenant. Start with falkordb_list_graphs and falkordb_graph_schema.',
      jsonSchemaValidator: JSON_SCHEMA_VALIDATOR,
    },
  );
  const lowLevel = server.server;
  lowLevel.registerCapabilities({ tools: { listChanged: false } });
  lowLevel.setRequestHandler(ListToolsRequestSchema, (_request, extra) => toolListFor(callerOf(extra).principal));
  lowLevel.setRequestHandler(CallToolRequestSchema, (request, extra) =>
    callTool(BY_NAME.get(request.params.name), request.params.arguments ?? {}, callerOf(extra), services, requestIdOf(extra)),
  );
  return server;
}
