// The gateway over /mcp with raw JSON-RPC: one stateless tools/call POST per call,
// one keep-alive socket per lane, each call carrying the token of the tenant whose turn it is.

import { GRAPH_NAME, nodesPerGraph } from '../dataset.js';
import { tierTokens } from '../tokens.js';
import type { SystemClient, SystemContext } from './client.js';
import { checkToolResult, jsonRpcMessage, toolCallBody } from './http-post.js';
import { RawHttpConnection } from './raw-http.js';

export async function gatewayRawClient(ctx: SystemContext): Promise<SystemClient> {
  const headers = (await tierTokens(ctx.job.tenants)).map((token) => ({
    Authorization: `Bearer ${token}`,
    Accept: 'application/json, text/event-stream',
  }));
  return rawQueryClient(ctx, new URL('/mcp', ctx.job.endpoints.gatewayUrl), (tenant) => headers[tenant]!, () => GRAPH_NAME);
}

/**
 * One `falkordb_query` tools/call POST per call on a keep-alive socket per lane; the
 * tenant whose turn it is picks the headers and the graph name. Also the floors' client.
 */
export function rawQueryClient(
  { job, workload, tenantOf }: SystemContext,
  url: URL,
  headersOf: (tenant: number) => Record<string, string>,
  graphNameOf: (tenant: number) => string,
): SystemClient {
  const lanes = Array.from({ length: job.concurrency }, () => new RawHttpConnection(url));
  const nodes = nodesPerGraph(job.tenants);
  return {
    async call(lane, seq) {
      const tenant = tenantOf(seq);
      const params = workload.params(nodes);
      const args = { graphName: graphNameOf(tenant), query: workload.query, readOnly: workload.readOnly, ...(params === undefined ? {} : { parameters: params }) };
      const reply = await lanes[lane]!.post(headersOf(tenant), toolCallBody('falkordb_query', args));
      const result = checkToolResult(jsonRpcMessage(reply).result);
      return (result['structuredContent'] as { rowCount?: number } | undefined)?.rowCount ?? -1;
    },
    async close() {
      for (const connection of lanes) connection.close();
    },
  };
}
