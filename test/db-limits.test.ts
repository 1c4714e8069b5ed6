// The limits FalkorDB itself enforces for the gateway: set on the embedded server,
// applied or checked on an external one, and what they do for the other tenants.

import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Writable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { loadConfig } from '../src/config/index.js';
import { connectDatabase } from '../src/falkordb/connection.js';
import type { Database } from '../src/falkordb/database.js';
import { INTERNAL_READ_ROWS } from '../src/falkordb/db-limits.js';
import { GraphClient } from '../src/falkordb/graphs.js';
import { readEmbeddedState } from '../src/falkordb/launcher.js';
import { startGateway, type RunningGateway } from '../src/main.js';
import { createLogger } from '../src/logger.js';
import { tenantGraphKey } from '../src/tenancy/keys.js';
import { exportTenant } from '../src/transfer/export.js';
import type { TransferRecord } from '../src/transfer/format.js';
import { rejection } from './support/assertions.js';
import { startTestCluster, type TestCluster, type TestClusterNode } from './support/cluster.js';
import { databaseText, startTestFalkorDB, testLogger, type TestFalkorDB } from './support/falkordb.js';
import { captureLog, startTestGateway } from './support/gateway.js';
import { seedGraph } from './support/graphs.js';
import { callTool, connectClient, mustCall } from './support/mcp.js';
import { signTestToken, TEST_SECRET } from './support/tokens.js';
import { commandCalls, startTopology, waitFor, type Topology, type TopologyNode } from './support/topology.js';

const MEMORY_MAX = 64 * 1024 * 1024;
const LIMITS = ['TIMEOUT_MAX', 'TIMEOUT_DEFAULT', 'QUERY_MEM_CAPACITY', 'RESULTSET_SIZE', 'MAX_INFO_QUERIES'];
const clients: Client[] = [];

async function clientOf(gw: RunningGateway, tenant: string): Promise<Client> {
  const c = await connectClient('http', gw.url, await signTestToken(tenant, { scope: 'read write admin' }));
  clients.push(c);
  return c;
}

async function configValue(db: Database, name: string): Promise<number> {
  const reply = await db.sendCommand(['GRAPH.CONFIG', 'GET', name]);
  assert.ok(Array.isArray(reply));
  return Number(Array.isArray(reply[0]) ? reply[0][1] : reply[1]);
}

async function configValues(db: Database): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const name of LIMITS) out[name] = await configValue(db, name);
  return out;
}

after(async () => {
  await Promise.allSettled(clients.map((c) => c.close()));
});

describe('the embedded FalkorDB', () => {
  let dataDir: string;
  let gateway: RunningGateway;
  let raw: Database;

  before(async () => {
    dataDir = await mkdtemp(path.join(os.tmpdir(), 'db-limits-'));
    const config = loadConfig({
      FALKORDB_DATA_DIR: dataDir,
      AUTH_JWT_SECRET: TEST_SECRET,
      HOST: '127.0.0.1',
      PORT: '0',
      LOG_LEVEL: 'silent',
      METRICS_PORT: 'off',
      QUERY_TIMEOUT_MS: '5000',
      QUERY_MEMORY_MAX_BYTES: String(MEMORY_MAX),
      RATE_LIMIT_PER_MINUTE: '0',
      MAX_ROWS: '20',
    });
    gateway = await startGateway({ config, logger: createLogger('silent'), allowInstall: false });
    const state = readEmbeddedState(dataDir);
    assert.ok(state !== undefined);
    raw = await connectDatabase({ url: state.url, password: state.password, connectTimeoutMs: 5_000, logger: testLogger() });
  });

  after(async () => {
    await raw?.close();
    await gateway?.stop();
    await rm(dataDir, { recursive: true, force: true });
  });

  it('starts with the time, memory, reply and recording limits taken from the configuration', async () => {
    // RESULTSET_SIZE: one row past MAX_ROWS, but never below what an export reads at once.
    assert.deepEqual(await configValues(raw), { TIMEOUT_MAX: 5000, TIMEOUT_DEFAULT: 5000, QUERY_MEM_CAPACITY: MEMORY_MAX, RESULTSET_SIZE: INTERNAL_READ_ROWS + 1, MAX_INFO_QUERIES: 0 });
  });

  it('sends the gateway a bounded reply for a query of millions of rows, still marked truncated', async () => {
    const c = await clientOf(gateway, 'wide');
    await seedGraph(gateway, 'wide', 'wide');
    const query = 'UNWIND range(1, 2000) AS a UNWIND range(1, 1500) AS b RETURN a * b AS x';
    const reply = await mustCall(c, 'falkordb_query', { graphName: 'wide', query });
    assert.equal(reply.truncated, true);
    assert.equal(reply.rowCount, 20);
    // What the database sends for it, read as the gateway reads it.
    const direct = await raw.sendCommand(['GRAPH.RO_QUERY', tenantGraphKey('wide', 'wide'), query, '--compact']);
    assert.ok(Array.isArray(direct) && Array.isArray(direct[1]));
    assert.equal(direct[1].length, INTERNAL_READ_ROWS + 1);
  });

  it('exports every relationship of a node with more of them than one reply may hold', async () => {
    const tenant = 'exporter';
    const hubs = INTERNAL_READ_ROWS + 1000;
    await raw.sendCommand(['GRAPH.QUERY', tenantGraphKey(tenant, 'hub'), `CREATE (h:Hub) WITH h UNWIND range(1, ${hubs}) AS i CREATE (h)-[:E {i: i}]->(:Leaf)`]);
    const records: TransferRecord[] = [];
    await exportTenant({ db: raw, graphs: new GraphClient(raw), tenant, write: async (r) => void records.push(r) });
    const relationships = records.filter((r) => r.kind === 'relationship');
    assert.equal(relationships.length, hubs);
    assert.equal(new Set(relationships.map((r) => (r.kind === 'relationship' ? r.properties.i : undefined))).size, hubs);
  });

  it('stops long writes at their timeoutMs, so another tenant is served right after', async () => {
    const hostile = await clientOf(gateway, 'hostile');
    const bystander = await clientOf(gateway, 'bystander');
    await mustCall(bystander, 'falkordb_query', { graphName: 'b', query: 'CREATE (:Seed)' });
    // One long write per worker thread: unbounded, they would keep every thread for minutes.
    const threads = await configValue(raw, 'THREAD_COUNT');
    const writes = await Promise.all(
      Array.from({ length: threads }, (_, i) =>
        callTool(hostile, 'falkordb_query', { graphName: `w${i}`, query: 'WITH range(1, 20000) AS r UNWIND r AS a UNWIND r AS b WITH a WHERE a * b < 0 CREATE (:N)', timeoutMs: 500 }),
      ),
    );
    for (const w of writes) assert.equal(w.error?.code, 'QUERY_TIMEOUT', w.text);
    const served = await callTool(bystander, 'falkordb_query', { graphName: 'b', query: 'MATCH (s:Seed) RETURN count(s) AS seeds', timeoutMs: 5000 });
    assert.equal(served.ok, true, served.text);
    assert.deepEqual(served.structured?.rows, [{ seeds: 1 }]);
  });

  it('refuses a query that needs more memory than QUERY_MEMORY_MAX_BYTES, with QUERY_MEMORY_EXCEEDED', async () => {
    const c = await clientOf(gateway, 'greedy');
    await seedGraph(gateway, 'greedy', 'm');
    const big = await callTool(c, 'falkordb_query', { graphName: 'm', query: 'UNWIND range(1, 3000) AS a UNWIND range(1, 3000) AS b WITH collect(a) AS c RETURN size(c) AS n' });
    assert.equal(big.error?.code, 'QUERY_MEMORY_EXCEEDED', big.text);
    assert.match(big.error.message, /more memory than the database allows one query/);
    const small = await mustCall(c, 'falkordb_query', { graphName: 'm', query: 'UNWIND range(1, 100) AS a RETURN count(a) AS n' });
    assert.deepEqual(small.rows, [{ n: 100 }]);
  });

  it('keeps no parameter value anywhere in the database', async () => {
    const secret = 'S3cr3t-api-key-7f2c';
    const c = await clientOf(gateway, 'keeper');
    await mustCall(c, 'falkordb_query', { graphName: 'vault', query: 'CREATE (:Door {opened: true})' });
    await mustCall(c, 'falkordb_query', { graphName: 'vault', query: 'MATCH (d:Door) WHERE $pw <> "" RETURN count(d) AS n', parameters: { pw: secret } });
    await mustCall(c, 'falkordb_query', { graphName: 'vault', query: 'MATCH (d:Door) SET d.checked = $pw <> ""', parameters: { pw: secret } });
    // FalkorDB writes its query log (telemetry{graph}) a moment after the reply: look for a while.
    for (let i = 0; i < 30; i += 1) {
      const text = await databaseText(raw);
      assert.ok(!text.includes(secret), 'a parameter value was found in the database');
      assert.ok(!/telemetry\{/.test(text), 'FalkorDB keeps a query log');
      await sleep(100);
    }
  });
});

describe('an external FalkorDB', () => {
  let bare: TestFalkorDB;
  let db: TestFalkorDB;
  let raw: Database | undefined;

  before(async () => {
    bare = await startTestFalkorDB();
    db = await startTestFalkorDB();
  });

  after(async () => {
    await raw?.close();
    await bare?.cleanup();
    await db?.cleanup();
  });

  async function bareValues(): Promise<Record<string, number>> {
    const conn = await connectDatabase({ url: bare.url, connectTimeoutMs: 5_000, logger: testLogger() });
    try {
      return await configValues(conn);
    } finally {
      await conn.close();
    }
  }

  it('DATABASE_LIMITS=check refuses to start, with the commands to run', async () => {
    const error = await rejection(startTestGateway(bare.url, { DATABASE_LIMITS: 'check' }));
    assert.equal(error.code, 'DATABASE_LIMITS_MISSING');
    assert.match(error.message, /GRAPH\.CONFIG SET TIMEOUT_MAX 10000/);
    assert.match(error.message, /GRAPH\.CONFIG SET MAX_INFO_QUERIES 0/);
    assert.match(error.message, /DATABASE_LIMITS=off/);
    assert.deepEqual(await bareValues(), { TIMEOUT_MAX: 0, TIMEOUT_DEFAULT: 0, QUERY_MEM_CAPACITY: 0, RESULTSET_SIZE: -1, MAX_INFO_QUERIES: 1000 });
  });

  it('refuses to start, with the commands to run, when its user may not run GRAPH.CONFIG SET', async () => {
    const admin = await connectDatabase({ url: bare.url, connectTimeoutMs: 5_000, logger: testLogger() });
    try {
      await admin.sendCommand(['ACL', 'SETUSER', 'noconfig', 'on', '>noconfig-pass', '~*', '&*', '+@all', '-graph.config']);
    } finally {
      await admin.close();
    }
    const url = `redis://noconfig:noconfig-pass@127.0.0.1:${bare.port}`;
    const error = await rejection(startTestGateway(url));
    assert.equal(error.code, 'DATABASE_LIMITS_MISSING');
    assert.match(error.message, /could not set them/);
    assert.match(error.message, /GRAPH\.CONFIG SET QUERY_MEM_CAPACITY 1073741824/);
  });

  it('DATABASE_LIMITS=off starts without them and warns', async () => {
    const log = captureLog();
    const gw = await startTestGateway(bare.url, { DATABASE_LIMITS: 'off', LOG_LEVEL: 'warn' }, log.stream);
    await gw.stop();
    assert.match(log.text(), /DATABASE_LIMITS=off/);
    assert.match(log.text(), /GRAPH\.CONFIG SET TIMEOUT_MAX 10000/);
    assert.equal((await bareValues()).TIMEOUT_MAX, 0);
  });

  it('sets the missing limits at start, and keeps roomier or stricter ones another gateway set', async () => {
    const first = await startTestGateway(db.url, { QUERY_TIMEOUT_MS: '20000' });
    const second = await startTestGateway(db.url, { QUERY_TIMEOUT_MS: '50', QUERY_MEMORY_MAX_BYTES: String(2 * 1024 * 1024 * 1024) });
    try {
      raw = await connectDatabase({ url: db.url, connectTimeoutMs: 5_000, logger: testLogger() });
      assert.deepEqual(await configValues(raw), { TIMEOUT_MAX: 20000, TIMEOUT_DEFAULT: 20000, QUERY_MEM_CAPACITY: 1073741824, RESULTSET_SIZE: 10001, MAX_INFO_QUERIES: 0 });
      const c = await clientOf(first, 'external');
      await seedGraph(first, 'external', 'g');
      const reply = await mustCall(c, 'falkordb_query', { graphName: 'g', query: 'RETURN 1 AS one', timeoutMs: 20000 });
      assert.deepEqual(reply.rows, [{ one: 1 }]);
    } finally {
      await second.stop();
      await first.stop();
    }
  });
});

/** GRAPH.CONFIG GET of every limit, read on `node` itself. */
async function nodeValues(node: TopologyNode): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const name of LIMITS) {
    const reply = (await node.command(['GRAPH.CONFIG', 'GET', name])) as unknown[];
    out[name] = Number(Array.isArray(reply[0]) ? reply[0][1] : reply[1]);
  }
  return out;
}

// What the gateway needs with the test gateway's settings (QUERY_TIMEOUT_MS 10000, the default memory and row caps).
const NEEDED = { TIMEOUT_MAX: 10000, TIMEOUT_DEFAULT: 10000, QUERY_MEM_CAPACITY: 1073741824, RESULTSET_SIZE: 10001, MAX_INFO_QUERIES: 0 };
const UNSET = { TIMEOUT_MAX: 0, TIMEOUT_DEFAULT: 0, QUERY_MEM_CAPACITY: 0, RESULTSET_SIZE: -1, MAX_INFO_QUERIES: 1000 };

describe('read replicas of an external FalkorDB', { timeout: 180_000 }, () => {
  let topology: Topology;
  let primary: TopologyNode;
  const gateways: RunningGateway[] = [];

  before(async () => {
    topology = await startTopology();
    primary = await topology.startNode();
  });

  after(async () => {
    for (const gateway of gateways) await gateway.stop().catch(() => {});
    await topology?.cleanup();
  });

  async function gatewayWith(replica: string, env: Record<string, string> = {}, log?: Writable): Promise<RunningGateway> {
    const gateway = await startTestGateway(primary.url, { FALKORDB_REPLICA_URLS: replica, FALKORDB_READ_AFTER_WRITE_MS: '0', RATE_LIMIT_PER_MINUTE: '0', ...env }, log);
    gateways.push(gateway);
    return gateway;
  }

  /** A user on `node` alone (ACL rules are not replicated) that may do everything but GRAPH.CONFIG. */
  async function noConfigUser(node: TopologyNode): Promise<string> {
    await node.command(['ACL', 'SETUSER', 'noconfig', 'on', '>noconfig-pass', '~*', '&*', '+@all', '-graph.config']);
    return `redis://noconfig:noconfig-pass@127.0.0.1:${node.port}`;
  }

  it('sets the limits on a read replica at start, and again after the replica restarts', async () => {
    const replica = await topology.startNode({ replicaOf: primary });
    assert.deepEqual(await nodeValues(replica), UNSET);
    await gatewayWith(replica.url);
    assert.deepEqual(await nodeValues(replica), NEEDED);
    // GRAPH.CONFIG SET lasts until the server restarts.
    await replica.kill();
    await replica.restart();
    await waitFor('the limits on the restarted replica', async () => (JSON.stringify(await nodeValues(replica)) === JSON.stringify(NEEDED) ? true : undefined), 60_000);
  });

  it('refuses to start, naming the replica and the commands to run, when the replica\'s limits cannot be set', async () => {
    const replica = await topology.startNode({ replicaOf: primary });
    const url = await noConfigUser(replica);
    const error = await rejection(gatewayWith(url));
    assert.equal(error.code, 'DATABASE_LIMITS_MISSING');
    assert.match(error.message, new RegExp(`FalkorDB at redis://noconfig@127\\.0\\.0\\.1:${replica.port} lacks limits`));
    assert.match(error.message, /GRAPH\.CONFIG SET TIMEOUT_MAX 10000/);
    assert.deepEqual(await nodeValues(replica), UNSET);
    // DATABASE_LIMITS=check stops at a replica without them too.
    const checked = await rejection(gatewayWith(replica.url, { DATABASE_LIMITS: 'check' }));
    assert.equal(checked.code, 'DATABASE_LIMITS_MISSING');
  });

  it('sends no reads to a replica that came back without the limits, warning with its address; they go to the primary until it has them', async () => {
    const replica = await topology.startNode({ replicaOf: primary });
    const setAll = async (node: TopologyNode) => {
      for (const [name, value] of Object.entries(NEEDED)) await node.command(['GRAPH.CONFIG', 'SET', name, String(value)]);
    };
    await setAll(primary);
    await setAll(replica);
    // DATABASE_LIMITS=check: the gateway may not set them, as when its user lacks GRAPH.CONFIG.
    const log = captureLog();
    const gateway = await gatewayWith(replica.url, { DATABASE_LIMITS: 'check', LOG_LEVEL: 'warn' }, log.stream);
    const client = await clientOf(gateway, 'rl');
    const read = () => callTool(client, 'falkordb_query', { graphName: 'g', query: 'MATCH (n) RETURN count(n) AS n', readOnly: true });
    assert.equal((await callTool(client, 'falkordb_query', { graphName: 'g', query: 'CREATE (:Item)' })).ok, true);
    await waitFor('the graph on the replica', async () => ((await replica.command(['EXISTS', 'rl_g'])) === 1 ? true : undefined));
    const served = await commandCalls(replica, 'graph.RO_QUERY');
    await read();
    assert.ok((await commandCalls(replica, 'graph.RO_QUERY')) > served, 'the replica serves reads before its restart');

    // Restarted, it has lost its GRAPH.CONFIG settings.
    await replica.kill();
    await replica.restart();
    const address = `FalkorDB at redis://127.0.0.1:${replica.port} lacks limits`;
    await waitFor('a warning naming the replica', () => (log.text().includes(address) ? true : undefined), 60_000);
    assert.match(log.text(), /GRAPH\.CONFIG SET TIMEOUT_MAX 10000/);
    await waitFor('the replica in sync again', async () => ((await replica.command(['EXISTS', 'rl_g'])) === 1 ? true : undefined));
    const before = await commandCalls(replica, 'graph.RO_QUERY');
    for (let i = 0; i < 6; i++) {
      const outcome = await read();
      assert.equal(outcome.ok, true, outcome.text);
      assert.deepEqual(outcome.structured?.rows, [{ n: 1 }]);
    }
    assert.equal(await commandCalls(replica, 'graph.RO_QUERY'), before, 'a replica without the limits served a read');

    // Once an operator sets them, it serves reads again.
    await setAll(replica);
    await waitFor('reads on the replica again', async () => {
      await read();
      return (await commandCalls(replica, 'graph.RO_QUERY')) > before ? true : undefined;
    }, 60_000);
  });
});

describe('an external FalkorDB that restarts', { timeout: 120_000 }, () => {
  let topology: Topology;
  let gateway: RunningGateway | undefined;

  before(async () => {
    topology = await startTopology();
  });

  after(async () => {
    await gateway?.stop().catch(() => {});
    await topology?.cleanup();
  });

  it('sets the limits again when the gateway reconnects to a restarted server', async () => {
    const server = await topology.startNode();
    gateway = await startTestGateway(server.url);
    assert.deepEqual(await nodeValues(server), NEEDED);
    await server.kill();
    await server.restart();
    await waitFor('the limits on the restarted server', async () => (JSON.stringify(await nodeValues(server)) === JSON.stringify(NEEDED) ? true : undefined), 45_000);
  });
});

describe('a cluster', { timeout: 180_000 }, () => {
  let cluster: TestCluster;
  let gateway: RunningGateway | undefined;

  before(async () => {
    cluster = await startTestCluster({ primaries: 2, replicas: 1 });
  });

  after(async () => {
    await gateway?.stop().catch(() => {});
    await cluster?.cleanup();
  });

  async function clusterNodeValues(node: TestClusterNode): Promise<Record<string, number>> {
    const out: Record<string, number> = {};
    for (const name of LIMITS) {
      const reply = (await node.command(['GRAPH.CONFIG', 'GET', name])) as unknown[];
      out[name] = Number(Array.isArray(reply[0]) ? reply[0][1] : reply[1]);
    }
    return out;
  }

  it('sets the limits on every primary and replica at start, and on a primary again after it restarts', async () => {
    const replica = cluster.replicas[0]!;
    assert.deepEqual(await clusterNodeValues(replica), UNSET);
    gateway = await startTestGateway('', { FALKORDB_CLUSTER_URLS: cluster.urls[0]! });
    for (const node of [...cluster.nodes, replica]) assert.deepEqual(await clusterNodeValues(node), NEEDED, `node ${node.port}`);
    const restarted = cluster.nodes[1]!;
    await restarted.stop();
    await restarted.start();
    await waitFor('the limits on the restarted primary', async () => (JSON.stringify(await clusterNodeValues(restarted)) === JSON.stringify(NEEDED) ? true : undefined), 45_000);
  });
});
