// The floors: the least a Node.js HTTP front for FalkorDB can do per call.
// FLOOR_MODE=plain: node:http, JSON.parse of a tools/call body, one query over the
// `falkordb` client, one JSON reply; no MCP, no token, no tenancy, no audit.
// FLOOR_MODE=sdk: the same behind the MCP SDK's McpServer (one tool with zod input
// and output schemas), fed by the gateway's own stateless transport
// (CallerMultiplexer) after the same JSON-RPC envelope check; still no token,
// tenancy or audit. Run in its own process by floor-server.ts; prints its port on
// stdout once it listens.

import http from 'node:http';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { JSONRPCMessageSchema, type JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';
import { FalkorDB } from 'falkordb';
import { z } from 'zod';
import { CallerMultiplexer } from '../../src/http/caller-multiplexer.js';

interface ToolCall {
  id: number | string;
  params: { arguments: { graphName: string; query: string; readOnly?: boolean; parameters?: Record<string, unknown> } };
}

const db = await FalkorDB.connect({ url: process.env.FALKORDB_URL ?? '' });

async function runQuery({ graphName, query, readOnly, parameters }: ToolCall['params']['arguments']): Promise<{ rows: unknown[]; rowCount: number }> {
  const graph = db.selectGraph(graphName);
  const options = parameters === undefined ? undefined : { params: parameters as Record<string, string | number> };
  const reply = readOnly === true ? await graph.roQuery(query, options) : await graph.query(query, options);
  const rows = reply.data ?? [];
  return { rows, rowCount: rows.length };
}

async function plain(text: string): Promise<unknown> {
  const call = JSON.parse(text) as ToolCall;
  const result = await runQuery(call.params.arguments);
  return { jsonrpc: '2.0', id: call.id, result: { content: [{ type: 'text', text: JSON.stringify(result.rows) }], structuredContent: result } };
}

function sdkServer(): (text: string) => Promise<unknown> {
  const mcp = new McpServer({ name: 'floor', version: '1.0.0' });
  mcp.registerTool(
    'falkordb_query',
    {
      inputSchema: z.object({ graphName: z.string(), query: z.string(), readOnly: z.boolean().optional(), parameters: z.record(z.string(), z.unknown()).optional() }),
      outputSchema: z.object({ rows: z.array(z.unknown()), rowCount: z.number() }),
    },
    async (args) => {
      const result = await runQuery(args as ToolCall['params']['arguments']);
      return { content: [{ type: 'text', text: JSON.stringify(result.rows) }], structuredContent: result };
    },
  );
  const transport = new CallerMultiplexer();
  void mcp.connect(transport);
  return async (text) => {
    const message: JSONRPCMessage = JSONRPCMessageSchema.parse(JSON.parse(text));
    const [reply] = await transport.deliver([message], {});
    return reply;
  };
}

const handle = process.env.FLOOR_MODE === 'sdk' ? sdkServer() : plain;

const server = http.createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (chunk: Buffer) => chunks.push(chunk));
  req.on('end', () => {
    void handle(Buffer.concat(chunks).toString('utf8')).then(
      (reply) => JSON.stringify(reply),
      (error: unknown) => JSON.stringify({ jsonrpc: '2.0', id: null, error: { code: -32603, message: error instanceof Error ? error.message : String(error) } }),
    ).then((body) => {
      res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) }).end(body);
    });
  });
});

server.listen(0, '127.0.0.1', () => {
  const address = server.address();
  process.stdout.write(`${typeof address === 'object' && address !== null ? address.port : 0}\n`);
});
process.on('SIGTERM', () => {
  server.close();
  void db.close().finally(() => process.exit(0));
});
