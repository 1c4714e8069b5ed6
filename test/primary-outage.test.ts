// Reads through a primary outage: a primary and a read replica started here, a real
// gateway and MCP client in front. The primary is killed; read-only calls must go on
// from the replica, writes must fail at once with PRIMARY_UNAVAILABLE, and once the
// primary is back, writes work again.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import type { RunningGateway } from '../src/main.js';
import { startTestGateway } from './support/gateway.js';
import { callTool, connectClient, mustCall, type ToolOutcome } from './support/mcp.js';
import { signTestToken } from './support/tokens.js';
import { startTopology, waitFor, type Topology, type TopologyNode } from './support/topology.js';

const TENANT = 'outage';
const GRAPH = 'stock';

let topology: Topology;
let primary: TopologyNode;
let replica: TopologyNode;
let gateway: RunningGateway;
let client: Client;

function countItems(): Promise<ToolOutcome> {
  return callTool(client, 'falkordb_query', { graphName: GRAPH, query: 'MATCH (n:Item) RETURN count(n) AS items', readOnly: true });
}

before(async () => {
  topology = await startTopology();
  primary = await topology.startNode();
  replica = await topology.startNode({ replicaOf: primary });
  gateway = await startTestGateway(primary.url, { FALKORDB_REPLICA_URLS: replica.url, FALKORDB_READ_AFTER_WRITE_MS: '0', RATE_LIMIT_PER_MINUTE: '600' });
  client = await connectClient('http', gateway.url, await signTestToken(TENANT, { scope: 'read write' }));
  await mustCall(client, 'falkordb_query', { graphName: GRAPH, query: 'UNWIND range(1, 3) AS i CREATE (:Item {n: i})' });
  await waitFor('the replica holding the seeded graph', async () => {
    const reply = (await replica.command(['GRAPH.RO_QUERY', `${TENANT}_${GRAPH}`, 'MATCH (n:Item) RETURN count(n)'])) as [unknown, number[][]];
    return Number(reply[1][0]?.[0]) === 3 ? true : undefined;
  });
  await waitFor('the replica in the rotation', () => (gateway.database.description.length > 0 && replicaReady() ? true : undefined));
});

function replicaReady(): boolean {
  const db = gateway.database.db as { readReplicas?: string[] };
  return (db.readReplicas ?? []).length > 0;
}

after(async () => {
  await client?.close().catch(() => {});
  await gateway?.stop();
  await topology?.cleanup();
});

describe('reads through a primary outage', { timeout: 180_000 }, () => {
  it('serves read-only calls from the replica while the primary is down', async () => {
    await primary.kill();
    // Within a bounded time, not at once: the gateway must first notice the primary is gone.
    const read = await waitFor('a read served during the outage', async () => {
      const outcome = await countItems();
      return outcome.ok ? outcome : undefined;
    }, 30_000);
    assert.equal((read.structured?.['rows'] as Array<{ items: number }>)[0]?.items, 3);
    const listed = await mustCall(client, 'falkordb_list_graphs');
    assert.deepEqual(listed['graphs'], [GRAPH]);
    const schema = await mustCall(client, 'falkordb_graph_schema', { graphName: GRAPH });
    assert.deepEqual(schema['labels'], ['Item']);
  });

  it('refuses a write while the primary is down with PRIMARY_UNAVAILABLE, saying reads still work', async () => {
    assert.equal(primary.running, false);
    const write = await callTool(client, 'falkordb_query', { graphName: GRAPH, query: 'CREATE (:Item {n: 4})' });
    assert.equal(write.ok, false);
    assert.equal(write.error?.code, 'PRIMARY_UNAVAILABLE');
    assert.match(write.error?.message ?? '', /writes are refused until it is back/);
    assert.match(write.error?.message ?? '', /read-only calls are still served/);
  });

  it('takes writes again once the primary is back', async () => {
    // The primary kept nothing (no persistence in these tests); the replica resyncs from it.
    await primary.restart();
    const written = await waitFor('a write accepted after the primary returned', async () => {
      const outcome = await callTool(client, 'falkordb_query', { graphName: GRAPH, query: 'CREATE (:Item {n: 5}) RETURN 1 AS done' });
      return outcome.ok ? outcome : undefined;
    }, 30_000);
    assert.equal(written.ok, true);
  });
});
