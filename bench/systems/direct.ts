// The baseline: the `falkordb` npm client straight to the server, one connection
// per lane (FalkorDB runs one query per connection at a time), on the same keys the gateway uses.

import { FalkorDB } from 'falkordb';
import { graphKey, nodesPerGraph } from '../dataset.js';
import type { SystemClient, SystemContext } from './client.js';

export async function directClient({ job, workload, tenantOf }: SystemContext): Promise<SystemClient> {
  const lanes = await Promise.all(Array.from({ length: job.concurrency }, () => FalkorDB.connect({ url: job.endpoints.falkordbUrl })));
  const keys = Array.from({ length: job.tenants }, (_, i) => graphKey(job.tenants, i));
  const nodes = nodesPerGraph(job.tenants);
  return {
    async call(lane, seq) {
      const graph = lanes[lane]!.selectGraph(keys[tenantOf(seq)]!);
      const params = workload.params(nodes);
      const options = params === undefined ? undefined : { params };
      const reply = workload.readOnly ? await graph.roQuery(workload.query, options) : await graph.query(workload.query, options);
      return reply.data?.length ?? 0;
    },
    async close() {
      await Promise.all(lanes.map((db) => db.close()));
    },
  };
}
