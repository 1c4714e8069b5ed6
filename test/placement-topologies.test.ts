// Database targets of every single-server topology, each a real set of
// servers started here: a target with a read replica (read-only queries of the
// tenant placed there reach the replica, writes its primary) and a Sentinel
// group (the tenant's calls go to the primary the sentinel names), beside the
// shared database, which holds neither tenant's graphs.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { GraphClient } from '../src/falkordb/graphs.js';
import type { RunningGateway } from '../src/main.js';
import { tenantGraphKey, tenantKeyPrefix } from '../src/tenancy/keys.js';
import { startTestFalkorDB, type TestFalkorDB } from './support/falkordb.js';
import { startTestGateway } from './support/gateway.js';
import { callTool, connectClient, mustCall } from './support/mcp.js';
import { signTestToken } from './support/tokens.js';
import { commandCalls, startTopology, waitFor, type Topology, type TopologyNode } from './support/topology.js';

let shared: TestFalkorDB;
let topology: Topology;
let replicatedPrimary: TopologyNode;
let replica: TopologyNode;
let sentinelPrimary: TopologyNode;
let gateway: RunningGateway;
const clients: Client[] = [];

before(async () => {
  shared = await startTestFalkorDB();
  topology = await startTopology();
  replicatedPrimary = await topology.startNode();
  replica = await topology.startNode({ replicaOf: replicatedPrimary });
  sentinelPrimary = await topology.startNode();
  const sentinel = await topology.startSentinel(sentinelPrimary, { name: 'placed', quorum: 1, downAfterMs: 60_000, failoverTimeoutMs: 60_000 });
  gateway = await startTestGateway(shared.url, {
    DATABASE_TARGETS: 'replicated,ha',
    DATABASE_TARGET_REPLICATED_URL: replicatedPrimary.url,
    DATABASE_TARGET_REPLICATED_REPLICA_URLS: replica.url,
    FALKORDB_READ_AFTER_WRITE_MS: '0',
    DATABASE_TARGET_HA_SENTINELS: `127.0.0.1:${sentinel.port}`,
    DATABASE_TARGET_HA_SENTINEL_MASTER: 'placed',
    DATABASE_TARGET_HA_SENTINEL_DATA_PASSWORD: topology.password,
    // The Sentinel group has no replica to confirm a write.
    FALKORDB_SENTINEL_MIN_REPLICAS: '0',
    RATE_LIMIT_PER_MINUTE: '0',
  });
  await gateway.state.tenants.add({ id: 'rep', database: 'replicated' });
  await gateway.state.tenants.add({ id: 'ha', database: 'ha' });
});

after(async () => {
  await Promise.allSettled(clients.map((c) => c.close()));
  await gateway?.stop();
  await topology?.cleanup();
  await shared?.cleanup();
});

async function clientOf(tenant: string): Promise<Client> {
  const client = await connectClient('http', gateway.url, await signTestToken(tenant, { scope: 'read write' }));
  clients.push(client);
  return client;
}

/** Whether `node` holds the graph key. */
async function holds(node: TopologyNode, key: string): Promise<boolean> {
  return Number(await node.command(['EXISTS', key])) === 1;
}

describe('database targets of each topology', { timeout: 180_000 }, () => {
  it('a target with a read replica: writes on its primary, read-only queries on its replica, nothing on the shared database', async () => {
    const client = await clientOf('rep');
    await mustCall(client, 'falkordb_query', { graphName: 'g', query: 'UNWIND range(1, 5) AS i CREATE (:Item {i: i})' });
    const key = tenantGraphKey('rep', 'g');
    assert.ok(await holds(replicatedPrimary, key), 'the write is on the target primary');
    await waitFor('the replica has the write', async () => (await holds(replica, key) ? true : undefined), 30_000);
    const before = await commandCalls(replica, 'graph.RO_QUERY');
    for (let i = 0; i < 5; i++) {
      const read = await callTool(client, 'falkordb_query', { graphName: 'g', query: 'MATCH (n:Item) RETURN count(n) AS items', readOnly: true });
      assert.equal(read.ok, true, read.text);
      assert.deepEqual(read.structured?.rows, [{ items: 5 }]);
    }
    assert.ok((await commandCalls(replica, 'graph.RO_QUERY')) - before >= 5, 'the reads reached the target replica');
    assert.deepEqual(await new GraphClient(gateway.database.db).listKeys(tenantKeyPrefix('rep')), [], 'nothing on the shared database');
    assert.equal(await holds(sentinelPrimary, key), false, 'nothing on the other target');
  });

  it('a Sentinel target: the tenant writes and reads on the primary the sentinel names', async () => {
    const client = await clientOf('ha');
    await mustCall(client, 'falkordb_query', { graphName: 'g', query: 'CREATE (:Item {i: 1})' });
    const read = await mustCall(client, 'falkordb_query', { graphName: 'g', query: 'MATCH (n:Item) RETURN count(n) AS items', readOnly: true });
    assert.deepEqual(read['rows'], [{ items: 1 }]);
    assert.ok(await holds(sentinelPrimary, tenantGraphKey('ha', 'g')), 'the graph is on the Sentinel group primary');
    assert.equal(await holds(replicatedPrimary, tenantGraphKey('ha', 'g')), false);
    assert.deepEqual(await new GraphClient(gateway.database.db).listKeys(tenantKeyPrefix('ha')), [], 'nothing on the shared database');
    const listed = await mustCall(client, 'falkordb_list_graphs', {});
    assert.match(JSON.stringify(listed), /"g"/);
  });
});
