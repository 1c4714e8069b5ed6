// Read replicas (FALKORDB_REPLICA_URLS): a primary and a replica started here, a real
// gateway and MCP client in front; where each call lands is read from the servers' own
// command statistics.

import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { ErrorReply } from '@redis/client';
import { loadConfig } from '../src/config/index.js';
import { GatewayError } from '../src/errors.js';
import { freeLoopbackPort } from './support/ports.js';
import { connectDatabase } from '../src/falkordb/connection.js';
import { isReplicaUnavailable, openReplicatedDatabase, replicationProblem, withCredentialsOf } from '../src/falkordb/replicas.js';
import type { RunningGateway } from '../src/main.js';
import { captureLog, startTestGateway } from './support/gateway.js';
import { callTool, connectClient, REPO_ROOT, type ToolOutcome } from './support/mcp.js';
import { testLogger } from './support/falkordb.js';
import { signTestToken } from './support/tokens.js';
import { commandCalls, startTopology, waitFor, type Topology, type TopologyNode } from './support/topology.js';

const execFileAsync = promisify(execFile);
const RO = 'graph.RO_QUERY';
const RW = 'graph.QUERY';
const EFFECT = 'graph.EFFECT';

let topology: Topology;
let primary: TopologyNode;
let replica: TopologyNode;
const gateways: RunningGateway[] = [];
const clients: Client[] = [];

async function gatewayWith(env: Record<string, string>): Promise<RunningGateway> {
  const gateway = await startTestGateway(primary.url, { RATE_LIMIT_PER_MINUTE: '0', ...env });
  gateways.push(gateway);
  return gateway;
}

async function clientOf(gateway: RunningGateway, tenant: string): Promise<Client> {
  const client = await connectClient('http', gateway.url, await signTestToken(tenant));
  clients.push(client);
  return client;
}

function read(client: Client, graphName: string): Promise<ToolOutcome> {
  return callTool(client, 'falkordb_query', { graphName, query: 'MATCH (n:Item) RETURN count(n) AS items', readOnly: true });
}

/** The replica has the graph's current contents (replication is asynchronous). */
async function replicated(graphKey: string, items: number): Promise<void> {
  await waitFor(`replica holding ${items} items in ${graphKey}`, async () => {
    const reply = (await replica.command(['GRAPH.RO_QUERY', graphKey, 'MATCH (n:Item) RETURN count(n)'])) as [unknown, number[][]];
    return Number(reply[1][0]?.[0]) === items ? true : undefined;
  });
}

before(async () => {
  topology = await startTopology();
  primary = await topology.startNode();
  replica = await topology.startNode({ replicaOf: primary });
});

after(async () => {
  await Promise.allSettled(clients.map((c) => c.close()));
  for (const gateway of gateways) await gateway.stop().catch(() => {});
  await topology?.cleanup();
});

describe('read replicas', { timeout: 180_000 }, () => {
  it('sends read-only queries to the replica and writes to the primary', async () => {
    const gateway = await gatewayWith({ FALKORDB_REPLICA_URLS: replica.url, FALKORDB_READ_AFTER_WRITE_MS: '0' });
    const client = await clientOf(gateway, 'rr');
    const write = await callTool(client, 'falkordb_query', { graphName: 'g', query: 'UNWIND range(1, 5) AS i CREATE (:Item {i: i})' });
    assert.equal(write.ok, true, write.text);
    await replicated('rr_g', 5);

    // The primary replicates a write as the query itself, or, when it ran longer than EFFECTS_THRESHOLD (a loaded machine), as its effects.
    const replicatedWrites = async (): Promise<number> => (await commandCalls(replica, RW)) + (await commandCalls(replica, EFFECT));
    const before = { replicaRo: await commandCalls(replica, RO), replicaRw: await replicatedWrites(), primaryRo: await commandCalls(primary, RO), primaryRw: await commandCalls(primary, RW) };
    for (let i = 0; i < 10; i++) {
      const outcome = await read(client, 'g');
      assert.equal(outcome.ok, true, outcome.text);
      assert.deepEqual(outcome.structured?.rows, [{ items: 5 }]);
    }
    assert.equal((await callTool(client, 'falkordb_query', { graphName: 'g', query: 'CREATE (:Item {i: 6})' })).ok, true);
    // Replication is asynchronous: count the replica's commands once it has applied the write.
    await replicated('rr_g', 6);

    assert.ok((await commandCalls(replica, RO)) - before.replicaRo >= 10, 'the reads did not reach the replica');
    assert.equal((await commandCalls(primary, RO)) - before.primaryRo, 0, 'a read went to the primary');
    assert.equal((await commandCalls(primary, RW)) - before.primaryRw, 1, 'the write did not reach the primary');
    // The replica runs the primary's writes from the replication stream, and only those.
    assert.equal((await replicatedWrites()) - before.replicaRw, 1, 'a write went to the replica');
  });

  it('sends a read to the primary when the caller asks for it ({ primary: true }), to the replica otherwise', async () => {
    const own = await connectDatabase({ url: primary.url, connectTimeoutMs: 5000, logger: testLogger() });
    const db = await openReplicatedDatabase({ primary: own, urls: [withCredentialsOf(replica.url, primary.url)], readAfterWriteMs: 0, connectTimeoutMs: 5000, logger: testLogger() });
    try {
      await db.sendCommand(['GRAPH.QUERY', 'asked_g', 'CREATE (:Item)']);
      await replicated('asked_g', 1);
      const counts = async () => ({ primary: await commandCalls(primary, RO), replica: await commandCalls(replica, RO) });
      const start = await counts();
      for (let i = 0; i < 5; i++) await db.sendCommand(['GRAPH.RO_QUERY', 'asked_g', 'CALL db.labels()'], { primary: true });
      const asked = await counts();
      assert.deepEqual({ primary: asked.primary - start.primary, replica: asked.replica - start.replica }, { primary: 5, replica: 0 });
      for (let i = 0; i < 5; i++) await db.sendCommand(['GRAPH.RO_QUERY', 'asked_g', 'CALL db.labels()']);
      const routed = await counts();
      assert.deepEqual({ primary: routed.primary - asked.primary, replica: routed.replica - asked.replica }, { primary: 0, replica: 5 });
    } finally {
      await db.close();
    }
  });

  it('reads a graph from the primary while this instance has just written it', async () => {
    const gateway = await gatewayWith({ FALKORDB_REPLICA_URLS: replica.url, FALKORDB_READ_AFTER_WRITE_MS: '600000' });
    const client = await clientOf(gateway, 'ryw');
    const primaryRo = await commandCalls(primary, RO);
    const replicaRo = await commandCalls(replica, RO);
    for (let i = 1; i <= 5; i++) {
      assert.equal((await callTool(client, 'falkordb_query', { graphName: 'fresh', query: 'CREATE (:Item)' })).ok, true);
      // Right after its own write, a client sees it, whatever the replica's lag.
      assert.deepEqual((await read(client, 'fresh')).structured?.rows, [{ items: i }]);
    }
    assert.equal((await commandCalls(primary, RO)) - primaryRo, 5);
    assert.equal((await commandCalls(replica, RO)) - replicaRo, 0);
    // Another graph, not written by this instance, is still read from the replica.
    await replicated('rr_g', 6);
    const replicaRoNow = await commandCalls(replica, RO);
    assert.equal((await read(await clientOf(gateway, 'rr'), 'g')).ok, true);
    assert.equal((await commandCalls(replica, RO)) - replicaRoNow, 1);
  });

  it('fails no call while the replica is killed mid-run, and reads from it again once it is back', async () => {
    const gateway = await gatewayWith({ FALKORDB_REPLICA_URLS: replica.url, FALKORDB_READ_AFTER_WRITE_MS: '0' });
    const client = await clientOf(gateway, 'rr');
    await replicated('rr_g', 6);
    const failures: string[] = [];
    let calls = 0;
    let stop = false;
    const loop = async (): Promise<void> => {
      while (!stop) {
        const outcome = await read(client, 'g');
        calls++;
        if (!outcome.ok) failures.push(outcome.text);
        else if ((outcome.structured?.rows as unknown[])[0] === undefined) failures.push('no rows');
      }
    };
    const loops = [loop(), loop(), loop(), loop()];
    try {
      await waitFor('reads reaching the replica', async () => ((await commandCalls(replica, RO)) >= 20 ? true : undefined));
      await replica.kill();
      const afterKill = calls;
      await waitFor('50 calls after the kill', () => (calls >= afterKill + 50 ? true : undefined), 60_000);
      await replica.restart();
      // A restarted replica has empty counters: any read it counts came through the gateway after its return.
      await waitFor('reads reaching the restarted replica', async () => ((await commandCalls(replica, RO)) > 0 ? true : undefined), 60_000);
    } finally {
      stop = true;
      await Promise.all(loops);
    }
    assert.deepEqual(failures, []);
  });

  it('starts on its primary when a replica is unreachable, and uses the replica once it appears', async () => {
    const port = await freeLoopbackPort();
    const gateway = await gatewayWith({ FALKORDB_REPLICA_URLS: `redis://127.0.0.1:${port}`, FALKORDB_READ_AFTER_WRITE_MS: '0' });
    const client = await clientOf(gateway, 'late');
    assert.equal((await callTool(client, 'falkordb_query', { graphName: 'g', query: 'CREATE (:Item)' })).ok, true);
    assert.deepEqual((await read(client, 'g')).structured?.rows, [{ items: 1 }]);

    const late = await topology.startNode({ replicaOf: primary, port });
    await waitFor('reads reaching the late replica', async () => {
      const outcome = await read(client, 'g');
      assert.equal(outcome.ok, true, outcome.text);
      return (await commandCalls(late, RO)) > 0 ? true : undefined;
    }, 60_000);
    await late.kill();
  });
});

describe('replica logs', { timeout: 60_000 }, () => {
  it('warn about an unreachable replica by its address, never with its password', async () => {
    const port = await freeLoopbackPort();
    const log = captureLog();
    const gateway = await startTestGateway(primary.url, { FALKORDB_REPLICA_URLS: `redis://:replica-pw-0451@127.0.0.1:${port}` }, log.stream);
    gateways.push(gateway);
    const warning = log.text().split('\n').find((line) => line.includes('read replica not reachable at start'));
    assert.ok(warning, 'no warning about the replica');
    assert.equal(JSON.parse(warning).replica, `redis://127.0.0.1:${port}`);
    assert.match(JSON.parse(warning).reason, /connection refused.*FALKORDB_REPLICA_URLS/);
    assert.doesNotMatch(log.text(), /replica-pw-0451/);
    assert.doesNotMatch(log.text(), new RegExp(topology.password));
  });
});

describe('closing a connection', { timeout: 60_000 }, () => {
  it('leaves no timer that keeps the process alive, even after its query pool grew', async () => {
    // A fresh process, so that only this connection's resources are counted.
    const script = `
      import { connectDatabase } from './src/falkordb/connection.ts';
      import { createLogger } from './src/logger.ts';
      const db = await connectDatabase({ url: process.env.URL, connectTimeoutMs: 5000, logger: createLogger('silent') });
      await Promise.all([1, 2, 3, 4].map(() => db.sendCommand(['GRAPH.QUERY', 'pool_growth', 'UNWIND range(1, 20000) AS i RETURN count(i)'])));
      await db.close();
      console.log(JSON.stringify(process.getActiveResourcesInfo().filter((r) => r === 'Timeout')));
      process.exit(0);
    `;
    const { stdout } = await execFileAsync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { cwd: REPO_ROOT, env: { ...process.env, URL: primary.url } });
    assert.deepEqual(JSON.parse(stdout.trim().split('\n').pop() ?? 'null'), []);
  });
});

describe('replica configuration', () => {
  const base = { FALKORDB_URL: 'redis://:pw@db:6379' };

  it('reads the replica list', () => {
    const config = loadConfig({ ...base, FALKORDB_REPLICA_URLS: 'redis://r1:6379, rediss://:x@r2:6380' });
    assert.deepEqual(config.falkordb.replicaUrls, ['redis://r1:6379', 'rediss://:x@r2:6380']);
    assert.equal(config.falkordb.readAfterWriteMs, 2000);
  });

  it('refuses a replica entry that is not a redis URL, without showing the list', () => {
    assert.throws(
      () => loadConfig({ ...base, FALKORDB_REPLICA_URLS: 'redis://:hunter2@r1:6379,http://r2' }),
      (e: GatewayError) => e.code === 'CONFIG_INVALID' && /FALKORDB_REPLICA_URLS.*number 2/.test(e.message) && !e.message.includes('hunter2'),
    );
  });

  it('refuses replicas without FALKORDB_URL', () => {
    assert.throws(() => loadConfig({ FALKORDB_REPLICA_URLS: 'redis://r1:6379' }), (e: GatewayError) => e.code === 'CONFIG_INVALID' && /FALKORDB_URL/.test(e.message));
  });

  it('refuses the primary listed as its own replica, and a replica listed twice', () => {
    assert.throws(() => loadConfig({ ...base, FALKORDB_REPLICA_URLS: 'redis://r1:6379,redis://DB:6379' }), /number 2 is the primary/);
    assert.throws(() => loadConfig({ ...base, FALKORDB_REPLICA_URLS: 'redis://r1:6379,redis://:pw@r1' }), /number 2 names a replica listed before/);
  });

  it('gives a replica without credentials those of the primary, and keeps its own otherwise', () => {
    assert.equal(withCredentialsOf('redis://r1:6379', 'redis://user:pw@db:6379'), 'redis://user:pw@r1:6379');
    assert.equal(withCredentialsOf('redis://:own@r1:6379', 'redis://user:pw@db:6379'), 'redis://:own@r1:6379');
  });

  it('judges a replica by INFO replication', () => {
    assert.equal(replicationProblem('role:slave\r\nmaster_link_status:up\r\n'), undefined);
    assert.match(replicationProblem('role:master\r\n') ?? '', /not a replica/);
    assert.match(replicationProblem('role:slave\r\nmaster_link_status:down\r\n') ?? '', /link to the primary is down/);
  });

  it('retries elsewhere on a server that cannot serve, never on a failed query', () => {
    assert.equal(isReplicaUnavailable(new GatewayError('DATABASE_UNREACHABLE', 'x')), true);
    assert.equal(isReplicaUnavailable(new ErrorReply('LOADING Valkey is loading the dataset in memory')), true);
    assert.equal(isReplicaUnavailable(new ErrorReply('MASTERDOWN Link with MASTER is down')), true);
    assert.equal(isReplicaUnavailable(new Error('Socket closed unexpectedly')), true);
    assert.equal(isReplicaUnavailable(new ErrorReply("errMsg: Invalid input 'RETRN'")), false);
    assert.equal(isReplicaUnavailable(new ErrorReply('Query timed out')), false);
  });
});
