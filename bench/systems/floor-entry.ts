// The floor: the least a Node.js HTTP front for FalkorDB can do per call. node:http,
// JSON.parse of a tools/call body, one query over the `falkordb` client, one JSON
// reply; no MCP, no token, no tenancy, no audit. Run in its own process by
// floor-server.ts; prints its port on stdout once it listens.

import http from 'node:http';
import { FalkorDB } from 'falkordb';

interface ToolCall {
  id: number | string;
  params: { arguments: { graphName: string; query: string; readOnly?: boolean; parameters?: Record<string, unknown> } };
}

const db = await FalkorDB.connect({ url: process.env.FALKORDB_URL ?? '' });

const server = http.createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (chunk: Buffer) => chunks.push(chunk));
  req.on('end', () => {
    void (async () => {
      let body: string;
      try {
        const call = JSON.parse(Buffer.concat(chunks).toString('utf8')) as ToolCall;
        const { graphName, query, readOnly, parameters } = call.params.arguments;
        const graph = db.selectGraph(graphName);
        const options = parameters === undefined ? undefined : { params: parameters as Record<string, string | number> };
        const reply = readOnly === true ? await graph.roQuery(query, options) : await graph.query(query, options);
        const rows = reply.data ?? [];
        body = JSON.stringify({ jsonrpc: '2.0', id: call.id, result: { content: [{ type: 'text', text: JSON.stringify(rows) }], structuredContent: { rows, rowCount: rows.length } } });
      } catch (error) {
        body = JSON.stringify({ jsonrpc: '2.0', id: null, error: { code: -32603, message: error instanceof Error ? error.message : String(error) } });
      }
      res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) }).end(body);
    })();
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
