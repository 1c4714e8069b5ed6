// The gateway over /mcp with raw JSON-RPC: one stateless tools/call POST per call,
// one keep-alive socket per lane, each call carrying the token of the tenant whose turn it is.

import { GRAPH_NAME, nodesPerGraph } from '../dataset.js';
import { tierTokens } from '../tokens.js';
import type { SystemClient, SystemContext } from './client.js';
import { checkToolResult, jsonRpcMessage, toolCallBody } from './http-post.js';
import { RawHttpConnection } from './raw-http.js';

export async function gatewayRawClient({ job, workload, tenantOf }: SystemContext): Promise<SystemClient> {
  const url = new URL('/mcp', job.endpoints.gatewayUrl);
  const lanes = Array.from({ length: job.concurrency }, () => new RawHttpConnection(url));
  const headers = (await tierTokens(job.tenants)).map((token) => ({
    Authorization: `Bearer ${token}`,
    Accept: 'application/json, text/event-stream',
  }));
  const nodes = nodesPerGraph(job.tenants);
  return {
    async call(lane, seq) {
      const params = workload.params(nodes);
      const args = { graphName: GRAPH_NAME, query: workload.query, readOnly: workload.readOnly, ...(params === undefined ? {} : { parameters: params }) };
      const reply = await lanes[lane]!.post(headers[tenantOf(seq)]!, toolCallBody('falkordb_query', args));
      const result = checkToolResult(jsonRpcMessage(reply).result);
      return (result['structuredContent'] as { rowCount?: number } | undefined)?.rowCount ?? -1;
    },
    async close() {
      for (const connection of lanes) connection.close();
    },
  };
}
