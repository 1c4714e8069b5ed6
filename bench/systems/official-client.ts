// Clients of the official @falkordb/mcpserver on its HTTP transport: stateful
// sessions (initialize first, then the session id on every POST), one per lane;
// raw JSON-RPC (replies come as one-event SSE streams) or the SDK's Client.

import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { graphKey, nodesPerGraph } from '../dataset.js';
import type { SystemClient, SystemContext } from './client.js';
import { checkToolResult, jsonRpcMessage, keepAliveAgent, post, request, toolCallBody, type PostReply } from './http-post.js';
import { RawHttpConnection } from './raw-http.js';
import type http from 'node:http';

const ACCEPT = 'application/json, text/event-stream';
const PROTOCOL_VERSION = '2025-06-18';

function officialUrl(ctx: SystemContext): URL {
  const url = ctx.job.endpoints.officialUrl;
  if (url === undefined) throw new Error('the official server is not running');
  return new URL(url);
}

/** Rows in the official server's text result (the falkordb client's reply as JSON). */
function rowsOf(result: Record<string, unknown>): number {
  const text = (result['content'] as Array<{ text?: string }> | undefined)?.[0]?.text ?? '{}';
  return (JSON.parse(text) as { data?: unknown[] }).data?.length ?? 0;
}

/** Opens one MCP session the way the SDK does: initialize, then notifications/initialized. */
export async function openOfficialSession(url: URL, agent: http.Agent): Promise<string> {
  const init = JSON.stringify({
    jsonrpc: '2.0',
    id: 0,
    method: 'initialize',
    params: { protocolVersion: PROTOCOL_VERSION, capabilities: {}, clientInfo: { name: 'bench', version: '1.0.0' } },
  });
  const reply: PostReply = await post(url, agent, { Accept: ACCEPT }, init);
  jsonRpcMessage(reply);
  const session = reply.headers['mcp-session-id'];
  if (typeof session !== 'string') throw new Error('the official server sent no mcp-session-id');
  const note = await post(url, agent, { Accept: ACCEPT, 'mcp-session-id': session, 'mcp-protocol-version': PROTOCOL_VERSION }, JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' }));
  if (note.status !== 202) throw new Error(`notifications/initialized: HTTP ${note.status}`);
  return session;
}

function toolArgs(ctx: SystemContext, seq: number): Record<string, unknown> {
  const { job, workload } = ctx;
  const params = workload.params(nodesPerGraph(job.tenants));
  return { graphName: graphKey(job.tenants, ctx.tenantOf(seq)), query: workload.query, readOnly: workload.readOnly, ...(params === undefined ? {} : { params }) };
}

export async function officialRawClient(ctx: SystemContext): Promise<SystemClient> {
  const url = officialUrl(ctx);
  const agent = keepAliveAgent(ctx.job.concurrency);
  const sessions = await Promise.all(Array.from({ length: ctx.job.concurrency }, () => openOfficialSession(url, agent)));
  const headers = sessions.map((s) => ({ Accept: ACCEPT, 'mcp-session-id': s, 'mcp-protocol-version': PROTOCOL_VERSION }));
  // Sessions are opened over node:http; the timed calls go over the same lean client as the gateway's.
  const lanes = sessions.map(() => new RawHttpConnection(url));
  return {
    async call(lane, seq) {
      const reply = await lanes[lane]!.post(headers[lane]!, toolCallBody('query_graph', toolArgs(ctx, seq)));
      return rowsOf(checkToolResult(jsonRpcMessage(reply).result));
    },
    async close() {
      // Ends the sessions, or the server would keep every one this benchmark opened.
      for (const connection of lanes) connection.close();
      await Promise.all(sessions.map((s) => request('DELETE', url, agent, { 'mcp-session-id': s, 'mcp-protocol-version': PROTOCOL_VERSION }).catch(() => undefined)));
      agent.destroy();
    },
  };
}

export async function officialSdkClient(ctx: SystemContext): Promise<SystemClient> {
  const url = officialUrl(ctx);
  const transports: StreamableHTTPClientTransport[] = [];
  const lanes = await Promise.all(
    Array.from({ length: ctx.job.concurrency }, async () => {
      const client = new Client({ name: 'bench', version: '1.0.0' });
      const transport = new StreamableHTTPClientTransport(url);
      transports.push(transport);
      await client.connect(transport);
      return client;
    }),
  );
  return {
    async call(lane, seq) {
      const result = (await lanes[lane]!.callTool({ name: 'query_graph', arguments: toolArgs(ctx, seq) })) as CallToolResult;
      return rowsOf(checkToolResult(result));
    },
    async close() {
      await Promise.all(transports.map((t) => t.terminateSession().catch(() => undefined)));
      await Promise.all(lanes.map((c) => c.close()));
    },
  };
}
