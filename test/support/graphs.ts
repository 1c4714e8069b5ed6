// Graphs made for a test straight in the database, so that a read-only tool
// call (which never creates a graph) has one to read.

import type { RunningGateway } from '../../src/main.js';
import { tenantGraphKey } from '../../src/tenancy/keys.js';

/** Creates `graph` of `tenant`, empty, unless it exists; on the gateway's own connection, outside every tool and audit. */
export async function seedGraph(gateway: RunningGateway, tenant: string, graph: string): Promise<void> {
  // GRAPH.QUERY creates a missing key even for a read: the tools never do this, the test does it on purpose.
  await gateway.database.db.sendCommand(['GRAPH.QUERY', tenantGraphKey(tenant, graph), 'RETURN 1']);
}
