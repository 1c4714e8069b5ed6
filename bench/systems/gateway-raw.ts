// The gateway over /mcp with raw JSON-RPC: one stateless tools/call POST per call,
// keep-alive sockets, each call carrying the token of the tenant whose turn it is.

import { GRAPH_NAME, nodesPerGraph } from '../dataset.js';
import { tierTokens } from '../tokens.js';
import type { SystemClient, SystemContext } from './client.js';
import { checkToolResult, jsonRpcMessage, keepAliveAgent, post, toolCallBody } from './http-post.js';

export async function gatewayRawClient({ job, workload, tenantOf }: SystemContext): Promise<SystemClient> {
  const url = new URL('/mcp', job.endpoints.gatewayUrl);
  const agent = keepAliveAgent(job.concurrency);
  const headers = (await tierTokens(job.tenants)).map((token) => ({
    Authorization: `Bearer ${token}`,
    Accept: 'application/json, text/event-stream',
  }));
  const nodes = nodesPerGraph(job.tenants);
  return {
    async call(_lane, seq) {
      const params = workload.params(nodes);
      const args = { graphName: GRAPH_NAME, query: workload.query, readOnly: workload.readOnly, ...(params === undefined ? {} : { parameters: params }) };
      const reply = await post(url, agent, headers[tenantOf(seq)]!, toolCallBody('falkordb_query', args));
      const result = checkToolResult(jsonRpcMessage(reply).result);
      return (result['structuredContent'] as { rowCount?: number } | undefined)?.rowCount ?? -1;
    },
    async close() {
      agent.destroy();
    },
  };
}
