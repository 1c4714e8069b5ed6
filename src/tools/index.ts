// The MCP server callers talk to: the tools, listed for each caller's scopes
// and called through tools/call.ts. A server is bound to one caller (an SSE
// session, stdio), or shared by every stateless POST, whose caller rides in on
// the request's authInfo (`callerAuthInfo`).
//
// tools/list and tools/call are answered here rather than by McpServer.registerTool,
// so that a call with bad arguments gets the same tool error as every other
// failure (INVALID_ARGUMENT naming the field and the rule, audited like any
// call) instead of the SDK's plain-text "MCP error -32602: Input validation error".

import type { IncomingHttpHeaders } from 'node:http';
import { McpServer, SUPPORTED_PROTOCOL_VERSIONS, type AuthInfo, type ListToolsResult, type ServerContext } from '@modelcontextprotocol/server';
import { AjvJsonSchemaValidator } from '@modelcontextprotocol/server/validators/ajv';
import type { Principal } from '../tenancy/principal.js';
import { PRODUCT_ID } from '../product.js';
import { callTool, registerTool, toolsFor, type CallChannel, type RegisteredTool } from './call.js';
import { createConstraintTool, dropConstraintTool } from './constraints.js';
import type { Caller, ToolServices } from './context.js';
import { deleteGraphTool } from './delete-graph.js';
import { explainTool } from './explain.js';
import { graphSchemaTool } from './graph-schema.js';
import { healthTool } from './health.js';
import { listGraphsTool } from './list-graphs.js';
import { registerLogging, type CallLog } from './logging.js';
import { progressTokenOf } from './progress.js';
import { queryTool } from './query.js';
import { readQueryTool } from './read-query.js';
import { serverInfoTool } from './server-info.js';
import { COMPLETIONS_CAPABILITY, registerCompletions } from './completions.js';
import type { RequestOf } from './content-call.js';
import { PROMPT_CACHE_HINTS, PROMPTS_CAPABILITY, registerPrompts } from './prompts.js';
import { RESOURCE_CACHE_HINTS, RESOURCES_CAPABILITY, registerResources } from './resources.js';
import { refuseSubscriptions, registerSubscriptions } from './subscriptions.js';

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

/** The caller behind each request, and the id of the HTTP request that carried it, by the authInfo object the transport delivered it with. */
const CALLERS = new WeakMap<AuthInfo, { caller: Caller; requestId: string | undefined; headers: IncomingHttpHeaders | undefined }>();

/**
 * The authInfo a transport delivers a caller's messages with. `requestId` is
 * the X-Request-Id of the HTTP request that carried them, when there is one;
 * `headers` its headers, where a call's trace context may be (`traceparent`).
 */
export function callerAuthInfo(caller: Caller, requestId?: string, headers?: IncomingHttpHeaders): AuthInfo {
  const { principal } = caller;
  // The token itself is not carried: nothing past authentication reads it.
  const info: AuthInfo = { token: '', clientId: principal.device ?? principal.subject, scopes: [...principal.scopes], expiresAt: principal.expiresAt };
  CALLERS.set(info, { caller, requestId, headers });
  return info;
}

/** The revision of MCP that has no initialize and carries the protocol version and client capabilities in every request. */
export const MODERN_PROTOCOL_VERSION = '2026-07-28';

/**
 * Which revisions a server answers. A server pinned to the 2026-07-28 revision
 * (its transport says so when it connects) answers server/discover; one for the
 * 2025 revisions answers initialize.
 */
export type ServedEra = 'legacy' | 'modern';

/** A server bound to one caller: an SSE session, stdio. */
export function createMcpServer(services: ToolServices, caller: Caller, era: ServedEra = 'legacy'): McpServer {
  return buildServer(services, era, () => caller, caller);
}

/** One server for many callers (stateless Streamable HTTP): each request's caller comes from its authInfo. */
export function createSharedMcpServer(services: ToolServices, era: ServedEra): McpServer {
  return buildServer(services, era, (ctx) => {
    const caller = ctx.http?.authInfo === undefined ? undefined : CALLERS.get(ctx.http.authInfo)?.caller;
    // The transport delivers every request with its caller's authInfo.
    if (caller === undefined) throw new Error('No caller is known for this request.');
    return caller;
  }, undefined);
}

/**
 * The id of the HTTP request behind a call (the X-Request-Id the listener set
 * on the request that carried it), else, over stdio, the JSON-RPC id.
 */
function requestIdOf(ctx: ServerContext): string {
  const info = ctx.http?.authInfo;
  return (info === undefined ? undefined : CALLERS.get(info)?.requestId) ?? `rpc-${String(ctx.mcpReq.id)}`;
}

/** The headers of the HTTP request behind a call, when it came over HTTP. */
function headersOf(ctx: ServerContext): IncomingHttpHeaders | undefined {
  const info = ctx.http?.authInfo;
  return info === undefined ? undefined : CALLERS.get(info)?.headers;
}

/**
 * On the 2026-07-28 revision list results say how long a client may keep them.
 * The tool list depends on the caller's scopes, so it is private to the caller;
 * it changes only with the gateway's version, so an hour is safe.
 */
const CACHE_HINTS = { 'tools/list': { ttlMs: 3_600_000, cacheScope: 'private' }, ...RESOURCE_CACHE_HINTS, ...PROMPT_CACHE_HINTS } as const;

/**
 * tools/call of the 2025 revisions without the SDK's dispatch, for the
 * stateless endpoint's plain requests: the arguments of a call whose params are
 * exactly `{name, arguments?}` (anything else goes through the server, which
 * gives the SDK's own errors), and the result the server would send (its 2025
 * codec passes tools/call results through as they are; the SDK would parse it
 * against CallToolResult, which results shaped here always are).
 * test/fast-tool-call.test.ts checks both give the same replies.
 */
export function plainToolCall(params: unknown): { name: string; arguments: Record<string, unknown> } | undefined {
  if (params === null || typeof params !== 'object' || Array.isArray(params)) return undefined;
  const { name, arguments: args, ...rest } = params as Record<string, unknown>;
  if (typeof name !== 'string' || Object.keys(rest).length > 0) return undefined;
  if (args === undefined) return { name, arguments: {} };
  if (args === null || typeof args !== 'object' || Array.isArray(args) || Object.getPrototypeOf(args) !== Object.prototype) return undefined;
  return { name, arguments: args as Record<string, unknown> };
}

/** Runs a call `plainToolCall` accepted, as the server's tools/call handler would. */
export function callToolDirectly(
  services: ToolServices,
  caller: Caller,
  requestId: string | undefined,
  call: { name: string; arguments: Record<string, unknown> },
  headers: IncomingHttpHeaders,
) {
  // A plain call has no _meta, so its trace context can only be in the headers.
  return callTool(BY_NAME.get(call.name), call.arguments, caller, services, requestId ?? 'rpc-direct', { headers });
}

/** What a call may send its client while it runs: progress when asked for, its messages, and the signal of its cancellation. */
function callChannel(meta: Record<string, unknown> | undefined, ctx: ServerContext, log: CallLog | undefined): CallChannel {
  const token = progressTokenOf(meta);
  return {
    signal: ctx.mcpReq.signal,
    progress: token === undefined ? undefined : { token, send: (notice) => ctx.mcpReq.notify(notice) },
    log,
  };
}

/** `sessionCaller`: the one caller of a server bound to a session (SSE, stdio); undefined for the shared stateless servers. */
function buildServer(services: ToolServices, era: ServedEra, callerOf: (ctx: ServerContext) => Caller, sessionCaller: Caller | undefined): McpServer {
  const server = new McpServer(
    { name: PRODUCT_ID, version: services.versions.gateway },
    {
      instructions: 'FalkorDB graph database tools, resources and prompts. Every graph name you use is private to your tenant. Start with falkordb_list_graphs and falkordb_graph_schema (or read falkordb://graphs and falkordb://graphs/{graph}/schema); the prompts explore a graph, write a Cypher query for a question, and check a query before it runs.',
      jsonSchemaValidator: JSON_SCHEMA_VALIDATOR,
      capabilities: {
        tools: { listChanged: false },
        // 2026-07-28: subscriptions/listen, served beside this server (http/subscriptions-listen.ts on /mcp, tools/stdio-listen.ts on stdio).
        resources: era === 'modern' ? { ...RESOURCES_CAPABILITY, subscribe: true } : RESOURCES_CAPABILITY,
        prompts: PROMPTS_CAPABILITY, completions: COMPLETIONS_CAPABILITY,
        logging: {},
      },
      cacheHints: CACHE_HINTS,
      ...(era === 'modern' ? { supportedProtocolVersions: [MODERN_PROTOCOL_VERSION, ...SUPPORTED_PROTOCOL_VERSIONS] } : {}),
    },
  );
  const lowLevel = server.server;
  lowLevel.setRequestHandler('tools/list', (_request, ctx) => toolListFor(callerOf(ctx).principal));
  const logOf = registerLogging(lowLevel, era === 'modern' ? 'per-request' : sessionCaller === undefined ? 'stateless' : 'session');
  lowLevel.setRequestHandler('tools/call', (request, ctx) =>
    callTool(BY_NAME.get(request.params.name), request.params.arguments ?? {}, callerOf(ctx), services, requestIdOf(ctx), { meta: request.params._meta, headers: headersOf(ctx) }, callChannel(request.params._meta, ctx, logOf(ctx))),
  );
  // Resources, prompts and completions (the caller's graphs, their schemas).
  const requestOf: RequestOf = (ctx) => ({ caller: callerOf(ctx), requestId: requestIdOf(ctx), headers: headersOf(ctx) });
  registerResources(lowLevel, services, requestOf);
  registerPrompts(lowLevel, services, requestOf);
  registerCompletions(lowLevel, services, requestOf);
  if (sessionCaller !== undefined && era === 'legacy') registerSubscriptions(server, services, sessionCaller, requestOf);
  else if (era === 'legacy') refuseSubscriptions(lowLevel);
  return server;
}
