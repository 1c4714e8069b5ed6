// TENANT_ISOLATION=acl beyond one server: a primary with a read replica, and a
// 3-primary cluster, all started here. ACL users are not replicated, so each
// tenant's user must exist, with the same rules, on every node.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { createClient, ErrorReply } from '@redis/client';
import { CLUSTER_EXTRA_COMMANDS, tenantUsersFor } from '../src/falkordb/acl.js';
import { createTenantConnections, type TenantConnections } from '../src/falkordb/acl-pool.js';
import { TENANT_USER_COMMANDS, tenantUserName, tenantUserPassword } from '../src/falkordb/acl-users.js';
import { connectCluster } from '../src/falkordb/cluster.js';
import type { Database, RespValue } from '../src/falkordb/database.js';
import { loadConfig } from '../src/config/index.js';
import type { RunningGateway } from '../src/main.js';
import { tenantGraphKey } from '../src/tenancy/keys.js';
import { runCli } from './support/cli.js';
import { startTestCluster, type TestCluster, type TestClusterNode } from './support/cluster.js';
import { testLogger } from './support/falkordb.js';
import { startTestGateway } from './support/gateway.js';
import { callTool, connectClient, mustCall } from './support/mcp.js';
import { signTestToken } from './support/tokens.js';
import { commandCalls, startTopology, waitFor, type Topology, type TopologyNode } from './support/topology.js';

const SECRET = 'acl-topology-user-secret-long-enough-0123456789';
const ACL_ENV = { TENANT_ISOLATION: 'acl', ACL_USER_SECRET: SECRET, RATE_LIMIT_PER_MINUTE: '0' };

const gateways: RunningGateway[] = [];
const clients: Client[] = [];

after(async () => {
  await Promise.allSettled(clients.map((c) => c.close()));
  for (const gateway of gateways) await gateway.stop().catch(() => {});
});

async function clientOf(gateway: RunningGateway, tenant: string, kind: 'http' | 'sse-header' = 'http'): Promise<Client> {
  const client = await connectClient(kind, gateway.url, await signTestToken(tenant));
  clients.push(client);
  return client;
}

type Send = (args: readonly string[]) => Promise<unknown>;

/** ACL GETUSER on one node as a field → value map; undefined when the user does not exist there. */
async function getUser(send: Send, name: string): Promise<Record<string, unknown> | undefined> {
  const reply = await send(['ACL', 'GETUSER', name]);
  if (!Array.isArray(reply)) return undefined;
  const fields: Record<string, unknown> = {};
  for (let i = 0; i + 1 < reply.length; i += 2) fields[String(reply[i])] = reply[i + 1];
  return fields;
}

/** What must be identical on every node: on/off, keys, commands, password hash. */
async function rulesOn(send: Send, tenant: string): Promise<unknown> {
  const user = await getUser(send, tenantUserName(tenant));
  return user === undefined ? undefined : { flags: user['flags'], keys: user['keys'], commands: user['commands'], passwords: user['passwords'], selectors: user['selectors'] };
}

/** Runs `args` on `port` logged in as the tenant's user; the reply, or the server's error message. */
async function asTenantUser(port: number, tenant: string, args: readonly string[]): Promise<unknown> {
  const username = tenantUserName(tenant);
  const client = createClient({ socket: { host: '127.0.0.1', port, reconnectStrategy: false, connectTimeout: 2_000 }, username, password: tenantUserPassword(SECRET, username), disableClientInfo: true });
  client.on('error', () => {});
  try {
    await client.connect();
    return await client.sendCommand([...args]);
  } catch (error) {
    if (error instanceof ErrorReply) return `error: ${error.message}`;
    throw error;
  } finally {
    if (client.isOpen) client.destroy();
  }
}

/** Connections on a node logged in as the tenant's user (CLIENT LIST). */
async function connectionsOf(send: Send, tenant: string): Promise<number> {
  const list = String(await send(['CLIENT', 'LIST']));
  return list.split('\n').filter((line) => line.includes(` user=${tenantUserName(tenant)} `)).length;
}

describe('acl mode with a read replica', { timeout: 240_000 }, () => {
  let topology: Topology;
  let primary: TopologyNode;
  let replica: TopologyNode;
  let gateway: RunningGateway;
  const env = () => ({ FALKORDB_REPLICA_URLS: replica.url, ...ACL_ENV });

  before(async () => {
    topology = await startTopology();
    primary = await topology.startNode();
    replica = await topology.startNode({ replicaOf: primary });
    gateway = await startTestGateway(primary.url, env());
    gateways.push(gateway);
  });

  after(async () => {
    await gateway?.stop().catch(() => {});
    await topology?.cleanup();
  });

  const readReplicas = () => (gateway.database.db as unknown as { readReplicas: string[] }).readReplicas;

  it("creates the tenant's user on the primary and on the replica, with the same rules", async () => {
    await mustCall(await clientOf(gateway, 'rep-same'), 'falkordb_query', { graphName: 'g', query: 'CREATE (:N)' });
    const onPrimary = await rulesOn(primary.command, 'rep-same');
    assert.ok(onPrimary !== undefined, 'the user exists on the primary');
    assert.deepEqual((onPrimary as { flags: unknown }).flags, ['on', 'sanitize-payload']);
    assert.equal((onPrimary as { commands: unknown }).commands, `-@all ${TENANT_USER_COMMANDS.map((c) => `+${c}`).join(' ')}`);
    assert.deepEqual(await rulesOn(replica.command, 'rep-same'), onPrimary);
  });

  it("runs a tenant's read-only queries on the replica as its user, and reads right after its write on the primary", async () => {
    // The instance that writes keeps reading the graph from the primary (a window far longer than the test).
    const writer = await startTestGateway(primary.url, { ...env(), FALKORDB_READ_AFTER_WRITE_MS: '600000' });
    gateways.push(writer);
    const w = await clientOf(writer, 'rep-reads');
    const items = async (c: Client) => (await mustCall(c, 'falkordb_query', { graphName: 'g', query: 'MATCH (n:Item) RETURN count(n) AS items', readOnly: true })).rows;
    await mustCall(w, 'falkordb_query', { graphName: 'g', query: 'UNWIND range(1, 3) AS i CREATE (:Item {i: i})' });
    const primaryBefore = await commandCalls(primary, 'graph.RO_QUERY');
    assert.deepEqual(await items(w), [{ items: 3 }]);
    assert.equal((await commandCalls(primary, 'graph.RO_QUERY')) - primaryBefore, 1, 'the read right after the write ran on the primary');

    // Another instance, which wrote nothing, reads from the replica.
    await waitFor('the graph on the replica', async () => {
      const reply = (await replica.command(['GRAPH.RO_QUERY', tenantGraphKey('rep-reads', 'g'), 'MATCH (n:Item) RETURN count(n)'])) as [unknown, number[][]];
      return Number(reply[1][0]?.[0]) === 3 ? true : undefined;
    });
    const c = await clientOf(gateway, 'rep-reads');
    const replicaBefore = await commandCalls(replica, 'graph.RO_QUERY');
    for (let i = 0; i < 4; i++) assert.deepEqual(await items(c), [{ items: 3 }]);
    assert.equal((await commandCalls(replica, 'graph.RO_QUERY')) - replicaBefore, 4, 'the reads ran on the replica');
    assert.ok((await connectionsOf(replica.command, 'rep-reads')) >= 1, "on a connection of the tenant's user there");
  });

  it("has the replica refuse another tenant's key to a tenant's user, and serve its own", async () => {
    const c = await clientOf(gateway, 'rep-intruder');
    await mustCall(c, 'falkordb_query', { graphName: 'own', query: 'CREATE (:Mine {v: 1})' });
    await primary.command(['GRAPH.QUERY', tenantGraphKey('rep-victim', 'secrets'), 'CREATE (:Secret {code: 42})']);
    await waitFor('both graphs on the replica', async () => ((await replica.command(['EXISTS', tenantGraphKey('rep-victim', 'secrets'), tenantGraphKey('rep-intruder', 'own')])) === 2 ? true : undefined));
    const foreign = await asTenantUser(replica.port, 'rep-intruder', ['GRAPH.RO_QUERY', tenantGraphKey('rep-victim', 'secrets'), 'MATCH (n) RETURN n.code']);
    assert.match(String(foreign), /^error: NOPERM/);
    const own = await asTenantUser(replica.port, 'rep-intruder', ['GRAPH.RO_QUERY', tenantGraphKey('rep-intruder', 'own'), 'MATCH (n:Mine) RETURN n.v']);
    assert.ok(Array.isArray(own), String(own));
    assert.match(String(await asTenantUser(replica.port, 'rep-intruder', ['GRAPH.LIST'])), /^error: NOPERM/);
  });

  it('turns a disabled tenant off on every node and cuts its connections there', async () => {
    const cliEnv = { FALKORDB_URL: primary.url, AUTH_JWT_SECRET: 'x'.repeat(32), LOG_LEVEL: 'silent', ...env() };
    const session = await clientOf(gateway, 'rep-off', 'sse-header');
    await mustCall(session, 'falkordb_query', { graphName: 'g', query: 'CREATE (:N)' });
    assert.equal((await runCli(['tenant', 'add', 'rep-off'], cliEnv)).code, 0);
    // A connection of the user on the replica too, as a read of the tenant would hold.
    const username = tenantUserName('rep-off');
    const held = createClient({ socket: { host: '127.0.0.1', port: replica.port, reconnectStrategy: false }, username, password: tenantUserPassword(SECRET, username), disableClientInfo: true });
    held.on('error', () => {});
    await held.connect();
    try {
      assert.equal(await connectionsOf(replica.command, 'rep-off'), 1);
      const disabled = await runCli(['tenant', 'disable', 'rep-off'], cliEnv);
      assert.equal(disabled.code, 0, disabled.stderr);
      assert.match(disabled.stdout, /database user is off/);
      for (const node of [primary, replica]) {
        assert.deepEqual((await getUser(node.command, username))?.['flags'], ['off', 'sanitize-payload'], `off on ${node.port}`);
        assert.equal(await connectionsOf(node.command, 'rep-off'), 0, `no connection left on ${node.port}`);
        assert.match(String(await asTenantUser(node.port, 'rep-off', ['PING'])), /^error: WRONGPASS/);
      }
      // Refused by whichever layer answers first: the registry (HTTP 403) or the database (tool error).
      const refused = await callTool(session, 'falkordb_query', { graphName: 'g', query: 'MATCH (n) RETURN count(n) AS c' }).then(
        (outcome) => outcome.error?.code,
        (error: Error) => (/TENANT_DISABLED/.test(error.message) ? 'TENANT_DISABLED' : error.message),
      );
      assert.equal(refused, 'TENANT_DISABLED');

      assert.equal((await runCli(['tenant', 'enable', 'rep-off'], cliEnv)).code, 0);
      for (const node of [primary, replica]) assert.deepEqual((await getUser(node.command, username))?.['flags'], ['on', 'sanitize-payload']);
      assert.equal(await asTenantUser(replica.port, 'rep-off', ['PING']), 'PONG');
    } finally {
      if (held.isOpen) held.destroy();
    }
  });

  it('keeps serving tenants while the replica is down, and sets their users up on it when it returns', async () => {
    const before = await clientOf(gateway, 'rep-earlier');
    await mustCall(before, 'falkordb_query', { graphName: 'g', query: 'CREATE (:N)' });
    await replica.kill();
    const during = await clientOf(gateway, 'rep-during');
    await mustCall(during, 'falkordb_query', { graphName: 'g', query: 'CREATE (:N)' });
    assert.deepEqual((await mustCall(during, 'falkordb_query', { graphName: 'g', query: 'MATCH (n) RETURN count(n) AS c', readOnly: true })).rows, [{ c: 1 }]);
    assert.deepEqual((await mustCall(before, 'falkordb_query', { graphName: 'g', query: 'MATCH (n) RETURN count(n) AS c', readOnly: true })).rows, [{ c: 1 }]);
    assert.ok(await rulesOn(primary.command, 'rep-during'));

    // Restarted without an ACL file: it has lost every user.
    await replica.restart();
    assert.equal(await getUser(replica.command, tenantUserName('rep-earlier')), undefined);
    await waitFor('the replica back in the rotation', () => (readReplicas().length === 1 ? true : undefined), 60_000);
    // Its health check notices the restart (a new run_id) within a round; each tenant's next call then sets its user up there.
    for (const [tenant, c] of [['rep-during', during], ['rep-earlier', before]] as const) {
      await waitFor(`${tenant}'s user on the returned replica`, async () => {
        assert.deepEqual((await mustCall(c, 'falkordb_query', { graphName: 'g', query: 'MATCH (n) RETURN count(n) AS c', readOnly: true })).rows, [{ c: 1 }]);
        return (await rulesOn(replica.command, tenant)) === undefined ? undefined : true;
      });
      assert.deepEqual(await rulesOn(replica.command, tenant), await rulesOn(primary.command, tenant), `${tenant}'s user on the returned replica`);
    }
  });
});

describe('acl mode on a 3-primary cluster with a replica', { timeout: 240_000 }, () => {
  let cluster: TestCluster;
  let gateway: RunningGateway;
  let admin: Database;
  const pools: TenantConnections[] = [];
  const env = () => ({ FALKORDB_CLUSTER_URLS: cluster.urls.join(','), ...ACL_ENV });

  before(async () => {
    cluster = await startTestCluster({ replicas: 1 });
    gateway = await startTestGateway('', env());
    gateways.push(gateway);
    admin = await connectCluster({ urls: cluster.urls, connectTimeoutMs: 10_000, logger: testLogger() });
  });

  after(async () => {
    await Promise.allSettled(pools.map((p) => p.close()));
    await gateway?.stop().catch(() => {});
    await admin?.close();
    await cluster?.cleanup();
  });

  /** Graph names of `tenant` whose keys land on each node, one per node. */
  async function graphPerNode(tenant: string): Promise<Map<TestClusterNode, string>> {
    const byNode = new Map<TestClusterNode, string>();
    for (let i = 0; byNode.size < cluster.nodes.length && i < 200; i++) {
      const node = await cluster.nodeOfKey(tenantGraphKey(tenant, `g${i}`));
      if (!byNode.has(node)) byNode.set(node, `g${i}`);
    }
    assert.equal(byNode.size, cluster.nodes.length, 'a graph name for every shard');
    return byNode;
  }

  function pool(max: number): TenantConnections {
    const config = loadConfig({ AUTH_JWT_SECRET: 'x'.repeat(32), ...env() });
    const connections = createTenantConnections({
      endpoint: 'redis://127.0.0.1',
      clusterSeeds: cluster.urls,
      users: tenantUsersFor(config, admin, testLogger()),
      maxConnections: max,
      maxPerTenant: 1,
      moduleVersion: 'test',
      logger: testLogger(),
    });
    pools.push(connections);
    return connections;
  }

  it("creates the tenant's user on every node, primaries and replica, with the same rules", async () => {
    await mustCall(await clientOf(gateway, 'cl-same'), 'falkordb_query', { graphName: 'g', query: 'CREATE (:N)' });
    const everyNode = [...cluster.nodes, ...cluster.replicas];
    assert.equal(everyNode.length, 4);
    const rules = await Promise.all(everyNode.map((node) => rulesOn(node.command, 'cl-same')));
    assert.ok(rules[0] !== undefined, 'the user exists');
    assert.deepEqual((rules[0] as { flags: unknown }).flags, ['on', 'sanitize-payload']);
    assert.equal((rules[0] as { keys: unknown }).keys, '~cl-same_*');
    assert.equal((rules[0] as { commands: unknown }).commands, `-@all ${[...TENANT_USER_COMMANDS, ...CLUSTER_EXTRA_COMMANDS].map((c) => `+${c}`).join(' ')}`);
    for (const [i, other] of rules.entries()) assert.deepEqual(other, rules[0], `node ${everyNode[i]!.port}`);
  });

  it("runs a tenant's calls on every shard as its user, and lists only its own graphs", async () => {
    const tenant = 'cl-spread';
    const byNode = await graphPerNode(tenant);
    await admin.sendCommand(['GRAPH.QUERY', tenantGraphKey('cl-other', 'hidden'), 'CREATE (:X)']);
    const c = await clientOf(gateway, tenant);
    for (const [node, graph] of byNode) {
      await mustCall(c, 'falkordb_query', { graphName: graph, query: `CREATE (:N {port: ${node.port}})` });
      assert.deepEqual((await mustCall(c, 'falkordb_query', { graphName: graph, query: 'MATCH (n:N) RETURN n.port AS port', readOnly: true })).rows, [{ port: node.port }]);
      assert.ok((await connectionsOf(node.command, tenant)) >= 1, `a connection as the tenant's user on ${node.port}`);
      const schema = await mustCall(c, 'falkordb_graph_schema', { graphName: graph });
      assert.ok(JSON.stringify(schema).includes('"N"'), JSON.stringify(schema));
    }
    const listed = (await mustCall(c, 'falkordb_list_graphs')).graphs as string[];
    assert.deepEqual([...listed].sort(), [...byNode.values()].sort());
    const [node, graph] = [...byNode][0]!;
    assert.deepEqual(await mustCall(c, 'falkordb_delete_graph', { graphName: graph }), { graph, deleted: true });
    assert.equal(await node.command(['EXISTS', tenantGraphKey(tenant, graph)]), 0);
  });

  it("has every shard refuse another tenant's key with NOPERM, on the tenant's own connections too", async () => {
    const victim = await graphPerNode('cl-victim');
    for (const graph of victim.values()) await admin.sendCommand(['GRAPH.QUERY', tenantGraphKey('cl-victim', graph), 'CREATE (:Secret {code: 42})']);
    await mustCall(await clientOf(gateway, 'cl-intruder'), 'falkordb_query', { graphName: 'own', query: 'CREATE (:Own)' });
    const connections = pool(6);
    for (const [node, graph] of victim) {
      const key = tenantGraphKey('cl-victim', graph);
      assert.match(String(await asTenantUser(node.port, 'cl-intruder', ['GRAPH.RO_QUERY', key, 'MATCH (n) RETURN n.code'])), /^error: NOPERM/, `node ${node.port}`);
      // The low-level query path, bypassing the key function, through the pool's cluster client.
      await assert.rejects(
        connections.use('cl-intruder', (graphs) => graphs.query({ key, query: 'MATCH (n) DELETE n', readOnly: false, timeoutMs: 5_000, maxRows: 10 })),
        (e: Error & { code?: string }) => e.code === 'DATABASE_ACCESS_DENIED' && !e.message.includes('cl-victim'),
      );
      assert.deepEqual(((await node.command(['GRAPH.RO_QUERY', key, 'MATCH (n:Secret) RETURN count(n)'])) as RespValue[])[1], [[1]], 'untouched');
    }
  });

  it('keeps the pool within ACL_POOL_MAX, a cluster client counting one connection per primary', async () => {
    const connections = pool(3);
    const tenants = ['cl-pool-0', 'cl-pool-1', 'cl-pool-2'];
    for (const tenant of tenants) {
      const byNode = await graphPerNode(tenant);
      for (const graph of byNode.values()) await connections.use(tenant, (graphs) => graphs.query({ key: tenantGraphKey(tenant, graph), query: 'CREATE (:N)', readOnly: false, timeoutMs: 5_000, maxRows: 10 }));
      await waitFor(`at most one cluster client open (${connections.openConnections})`, () => (connections.openConnections <= 3 ? true : undefined), 3_000).catch((e: Error) => assert.fail(`${e.message}; open: ${connections.openConnections}`));
    }
    const first = await connections.use('cl-pool-0', (graphs) => graphs.query({ key: tenantGraphKey('cl-pool-0', 'g0'), query: 'MATCH (n) RETURN count(n) AS c', readOnly: true, timeoutMs: 5_000, maxRows: 10 }));
    assert.ok(first.rows.length === 1);
  });

  it('serves, then closes, a cluster client larger than the whole pool', async () => {
    const connections = pool(2);
    for (let i = 0; i < 3; i++) {
      const reply = await connections.use('cl-tiny', (graphs) => graphs.query({ key: tenantGraphKey('cl-tiny', 'g'), query: `CREATE (:N {i: ${i}}) RETURN ${i} AS i`, readOnly: false, timeoutMs: 5_000, maxRows: 10 }));
      assert.deepEqual(reply.rows, [{ i }]);
    }
    await waitFor('no connection left open', () => (connections.openConnections === 0 ? true : undefined), 5_000);
    await waitFor('no connection of the user on the server', async () => ((await connectionsOf(cluster.nodes[0]!.command, 'cl-tiny')) === 0 ? true : undefined), 5_000);
  });

  it('turns a disabled tenant off on every node and ends its open session', async () => {
    const session = await clientOf(gateway, 'cl-off', 'sse-header');
    for (const graph of (await graphPerNode('cl-off')).values()) await mustCall(session, 'falkordb_query', { graphName: graph, query: 'CREATE (:N)' });
    const users = tenantUsersFor(loadConfig({ AUTH_JWT_SECRET: 'x'.repeat(32), ...env() }), admin, testLogger());
    assert.ok((await users.disable('cl-off')) >= cluster.nodes.length, 'its connection on every primary was closed');
    for (const node of [...cluster.nodes, ...cluster.replicas]) {
      assert.deepEqual((await getUser(node.command, tenantUserName('cl-off')))?.['flags'], ['off', 'sanitize-payload'], `off on ${node.port}`);
      assert.equal(await connectionsOf(node.command, 'cl-off'), 0);
    }
    const refused = await callTool(session, 'falkordb_query', { graphName: 'g0', query: 'MATCH (n) RETURN count(n) AS c' });
    assert.equal(refused.ok, false);
    assert.equal(refused.error?.code, 'TENANT_DISABLED');
    await users.enable('cl-off');
    await waitFor('the enabled tenant served again', async () => ((await callTool(session, 'falkordb_query', { graphName: 'g0', query: 'RETURN 1' })).ok ? true : undefined));
    await users.remove('cl-off');
    for (const node of [...cluster.nodes, ...cluster.replicas]) assert.equal(await getUser(node.command, tenantUserName('cl-off')), undefined);
  });
});
