// The gateway over /mcp with the MCP SDK's Client and StreamableHTTPClientTransport,
// one connected client per lane, as a desktop or IDE client would hold one.

import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { GRAPH_NAME, nodesPerGraph } from '../dataset.js';
import { tierTokens } from '../tokens.js';
import type { SystemClient, SystemContext } from './client.js';
import { checkToolResult } from './http-post.js';

export async function gatewaySdkClient({ job, workload, tenantOf }: SystemContext): Promise<SystemClient> {
  const tokens = await tierTokens(job.tenants);
  if (job.tenants > job.concurrency) throw new Error('gateway-sdk holds one client per lane, so it runs with at most as many tenants as lanes');
  const url = new URL('/mcp', job.endpoints.gatewayUrl);
  const lanes = await Promise.all(
    Array.from({ length: job.concurrency }, async (_, lane) => {
      const client = new Client({ name: 'bench', version: '1.0.0' });
      const headers = { Authorization: `Bearer ${tokens[tenantOf(lane)]!}` };
      await client.connect(new StreamableHTTPClientTransport(url, { requestInit: { headers } }));
      return client;
    }),
  );
  const nodes = nodesPerGraph(job.tenants);
  return {
    async call(lane) {
      const params = workload.params(nodes);
      const args = { graphName: GRAPH_NAME, query: workload.query, readOnly: workload.readOnly, ...(params === undefined ? {} : { parameters: params }) };
      const result = (await lanes[lane]!.callTool({ name: 'falkordb_query', arguments: args })) as CallToolResult;
      return (checkToolResult(result)['structuredContent'] as { rowCount?: number } | undefined)?.rowCount ?? -1;
    },
    async close() {
      await Promise.all(lanes.map((c) => c.close()));
    },
  };
}
