// The floor server's client: the gateway's raw JSON-RPC call, on the graph key itself.

import { graphKey, nodesPerGraph } from '../dataset.js';
import type { SystemClient, SystemContext } from './client.js';
import { checkToolResult, jsonRpcMessage, toolCallBody } from './http-post.js';
import { RawHttpConnection } from './raw-http.js';

export async function floorClient({ job, workload, tenantOf }: SystemContext): Promise<SystemClient> {
  const base = job.endpoints.floorUrl;
  if (base === undefined) throw new Error('the floor server is not running');
  const lanes = Array.from({ length: job.concurrency }, () => new RawHttpConnection(new URL(base)));
  const keys = Array.from({ length: job.tenants }, (_, i) => graphKey(job.tenants, i));
  const nodes = nodesPerGraph(job.tenants);
  return {
    async call(lane, seq) {
      const params = workload.params(nodes);
      const args = { graphName: keys[tenantOf(seq)]!, query: workload.query, readOnly: workload.readOnly, ...(params === undefined ? {} : { parameters: params }) };
      const reply = await lanes[lane]!.post({ Accept: 'application/json' }, toolCallBody('falkordb_query', args));
      return (checkToolResult(jsonRpcMessage(reply).result)['structuredContent'] as { rowCount: number }).rowCount;
    },
    async close() {
      for (const connection of lanes) connection.close();
    },
  };
}
