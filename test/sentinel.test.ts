// Sentinel (FALKORDB_SENTINELS): one primary, one replica and three sentinels started
// here; a real gateway and MCP client write in a loop while the primary is failed over
// and killed, and every write the gateway acknowledged must be on the new primary.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { loadConfig } from '../src/config/index.js';
import type { GatewayError } from '../src/errors.js';
import { freeLoopbackPort } from './support/ports.js';
import { connectSentinel, graphReplyWrote } from '../src/falkordb/sentinel.js';
import type { RunningGateway } from '../src/main.js';
import { rejection } from './support/assertions.js';
import { testLogger } from './support/falkordb.js';
import { startTestGateway } from './support/gateway.js';
import { callTool, connectClient } from './support/mcp.js';
import { signTestToken } from './support/tokens.js';
import { infoField, startTopology, waitFor, type Topology, type TopologyNode } from './support/topology.js';

const MASTER = 'falkordb-test';

let topology: Topology;
let nodes: TopologyNode[];
let sentinels: TopologyNode[];
const gateways: RunningGateway[] = [];
const clients: Client[] = [];

async function gatewayWith(env: Record<string, string> = {}): Promise<RunningGateway> {
  const gateway = await startTestGateway('', {
    FALKORDB_URL: '',
    FALKORDB_SENTINELS: sentinels.map((s) => `127.0.0.1:${s.port}`).join(','),
    FALKORDB_SENTINEL_MASTER: MASTER,
    FALKORDB_SENTINEL_DATA_PASSWORD: topology.password,
    FALKORDB_SENTINEL_WAIT_TIMEOUT_MS: '1000',
    RATE_LIMIT_PER_MINUTE: '0',
    ...env,
  });
  gateways.push(gateway);
  return gateway;
}

async function clientOf(gateway: RunningGateway, tenant: string): Promise<Client> {
  const client = await connectClient('http', gateway.url, await signTestToken(tenant));
  clients.push(client);
  return client;
}

/** The port of the primary the sentinels name now. */
async function primaryPort(): Promise<number> {
  for (const sentinel of sentinels) {
    try {
      const reply = (await sentinel.command(['SENTINEL', 'GET-MASTER-ADDR-BY-NAME', MASTER])) as string[];
      return Number(reply[1]);
    } catch {
      // ask the next one
    }
  }
  throw new Error('no sentinel answered');
}

function nodeAt(port: number): TopologyNode {
  const node = nodes.find((n) => n.port === port);
  assert.ok(node, `no node on port ${port}`);
  return node;
}

/** The `i` of every :W node on `node`. */
async function storedWrites(node: TopologyNode, key: string): Promise<Set<number>> {
  const reply = (await node.command(['GRAPH.RO_QUERY', key, 'MATCH (w:W) RETURN w.i'])) as unknown[][];
  return new Set((reply[1] ?? []).map((row) => Number((row as unknown[])[0])));
}

/** Writes in a loop until stopped; returns the acknowledged `i`s and the error codes seen. */
function writeLoop(client: Client, graphName: string, first: number) {
  const acked: number[] = [];
  const errors = new Map<string, number>();
  let stop = false;
  let i = first;
  const done = (async () => {
    while (!stop) {
      const n = i++;
      const outcome = await callTool(client, 'falkordb_query', { graphName, query: 'CREATE (:W {i: $i})', parameters: { i: n } });
      if (outcome.ok) acked.push(n);
      else errors.set(outcome.error?.code ?? 'UNKNOWN', (errors.get(outcome.error?.code ?? 'UNKNOWN') ?? 0) + 1);
    }
  })();
  return {
    acked,
    errors,
    async stop() {
      stop = true;
      await done;
    },
  };
}

before(async () => {
  topology = await startTopology();
  const primary = await topology.startNode();
  const replica = await topology.startNode({ replicaOf: primary });
  nodes = [primary, replica];
  sentinels = [];
  for (let s = 0; s < 3; s++) sentinels.push(await topology.startSentinel(primary, { name: MASTER, quorum: 2, downAfterMs: 1000, failoverTimeoutMs: 4000 }));
  // Failover needs the sentinels to know each other and the replica.
  await waitFor('sentinels that see each other and the replica', async () => {
    const master = (await sentinels[0]!.command(['SENTINEL', 'MASTER', MASTER])) as string[];
    const field = (name: string) => Number(master[master.indexOf(name) + 1]);
    return field('num-other-sentinels') === 2 && field('num-slaves') === 1 ? true : undefined;
  });
});

after(async () => {
  await Promise.allSettled(clients.map((c) => c.close()));
  for (const gateway of gateways) await gateway.stop().catch(() => {});
  await topology?.cleanup();
});

describe('sentinel failover', { timeout: 240_000 }, () => {
  it('serves through the primary the sentinels name', async () => {
    const gateway = await gatewayWith();
    const client = await clientOf(gateway, 'sn');
    assert.equal((await callTool(client, 'falkordb_query', { graphName: 'g', query: 'CREATE (:W {i: 0})' })).ok, true);
    const read = await callTool(client, 'falkordb_query', { graphName: 'g', query: 'MATCH (w:W) RETURN w.i AS i', readOnly: true });
    assert.deepEqual(read.structured?.rows, [{ i: 0 }]);
    // Acknowledged means on the replica too.
    assert.deepEqual(await storedWrites(nodes[1]!, 'sn_g'), new Set([0]));
  });

  it('refuses to acknowledge a write that fewer replicas than required confirmed', async () => {
    const gateway = await gatewayWith({ FALKORDB_SENTINEL_MIN_REPLICAS: '2', FALKORDB_SENTINEL_WAIT_TIMEOUT_MS: '200' });
    const client = await clientOf(gateway, 'sn2');
    const write = await callTool(client, 'falkordb_query', { graphName: 'g', query: 'CREATE (:W {i: 1})' });
    assert.equal(write.ok, false);
    assert.equal(write.error?.code, 'WRITE_NOT_REPLICATED');
    assert.match(write.error?.message ?? '', /only 1 of the 2 replicas/);
    // A query that writes nothing is not held to it.
    const read = await callTool(client, 'falkordb_query', { graphName: 'g', query: 'MATCH (w:W) RETURN count(w) AS n' });
    assert.equal(read.ok, true, read.text);
    // Nor a plan: FalkorDB flags GRAPH.EXPLAIN as a write command, yet it writes nothing.
    const plan = await callTool(client, 'falkordb_explain', { graphName: 'g', query: 'CREATE (:W {i: 2})' });
    assert.equal(plan.ok, true, plan.text);
    assert.equal(plan.structured?.writes, true);
  });

  it('loses no acknowledged write through a SENTINEL FAILOVER and a kill -9 of the primary, and recovers by itself', async () => {
    const gateway = await gatewayWith({ FALKORDB_SENTINEL_MIN_REPLICAS: '1' });
    const client = await clientOf(gateway, 'fo');
    const loops = [writeLoop(client, 'g', 1_000_000), writeLoop(client, 'g', 2_000_000)];
    const acked = () => loops.reduce((sum, l) => sum + l.acked.length, 0);
    try {
      await waitFor('writes before the failover', () => (acked() >= 20 ? true : undefined));

      // 1. A failover the sentinels run on request: the primary is demoted while writes arrive.
      const first = await primaryPort();
      await sentinels[0]!.command(['SENTINEL', 'FAILOVER', MASTER]);
      await waitFor('the sentinels to name the replica', async () => ((await primaryPort()) !== first ? true : undefined), 60_000);
      let mark = acked();
      await waitFor('writes acknowledged after the failover', () => (acked() >= mark + 20 ? true : undefined), 60_000);

      // 2. The new primary dies without a word; the old one, now its replica, takes over.
      const second = await primaryPort();
      await nodeAt(second).kill();
      await waitFor('the sentinels to fail over from the killed primary', async () => ((await primaryPort()) !== second ? true : undefined), 60_000);
      // Back only after the failover, and out of promotion until it has copied the data again: it has no
      // persistence, so it comes back empty, and a failover in the meantime (the primary missing the
      // sentinels' pings for a second, as on a loaded machine) would promote it and have the primary,
      // which holds every acknowledged write, copy its empty data set (docs/deployment.md).
      const promoted = nodeAt(await primaryPort());
      await nodeAt(second).restart([`replicaof 127.0.0.1 ${promoted.port}`, 'replica-priority 0']);
      await waitFor('the restarted node in sync', async () => (infoField(await nodeAt(second).command(['INFO', 'replication']), 'master_link_status') === 'up' ? true : undefined), 60_000);
      await nodeAt(second).command(['CONFIG', 'SET', 'replica-priority', '100']);
      mark = acked();
      await waitFor('writes acknowledged after the kill', () => (acked() >= mark + 20 ? true : undefined), 90_000);
      } finally {
      await Promise.all(loops.map((l) => l.stop()));
    }

    const primary = nodeAt(await primaryPort());
    const stored = await storedWrites(primary, 'fo_g');
    const lost = loops.flatMap((l) => l.acked).filter((i) => !stored.has(i));
    assert.deepEqual(lost, [], `acknowledged writes missing on the new primary (errors seen: ${JSON.stringify([...loops[0]!.errors, ...loops[1]!.errors])})`);
    for (const loop of loops) {
      for (const code of loop.errors.keys()) assert.ok(['WRITE_NOT_REPLICATED', 'WRITE_OUTCOME_UNKNOWN', 'DATABASE_UNREACHABLE'].includes(code), `unexpected error ${code}`);
    }
    // The same gateway, never restarted, serves reads and writes: a write goes through as soon as the
    // sentinels' view has settled (a loaded machine can still be finishing a failover here, which the
    // write loops above answer with the same retryable errors).
    const refusals: string[] = [];
    await waitFor(
      'a write through the same gateway',
      async () => {
        const write = await callTool(client, 'falkordb_query', { graphName: 'g', query: 'CREATE (:W {i: -1})' });
        if (!write.ok) refusals.push(write.text);
        return write.ok ? true : undefined;
      },
      60_000,
    ).catch((error: unknown) => assert.fail(`${String(error)}; answers: ${refusals.slice(-3).join(' | ')}`));
    for (const refusal of refusals) assert.match(refusal, /WRITE_NOT_REPLICATED|WRITE_OUTCOME_UNKNOWN|DATABASE_UNREACHABLE/);
    const count = await callTool(client, 'falkordb_query', { graphName: 'g', query: 'MATCH (w:W) RETURN count(w) AS n', readOnly: true });
    assert.equal(count.ok, true, count.text);
  });
});

describe('FalkorDB limits through a failover', { timeout: 240_000 }, () => {
  const NEEDED: Record<string, number> = { TIMEOUT_MAX: 10000, TIMEOUT_DEFAULT: 10000, QUERY_MEM_CAPACITY: 1073741824, RESULTSET_SIZE: 10001, MAX_INFO_QUERIES: 0 };
  // FalkorDB's defaults, in an order it accepts (TIMEOUT_DEFAULT may not exceed TIMEOUT_MAX).
  const UNSET: Array<[string, number]> = [['TIMEOUT_DEFAULT', 0], ['TIMEOUT_MAX', 0], ['QUERY_MEM_CAPACITY', 0], ['RESULTSET_SIZE', -1], ['MAX_INFO_QUERIES', 1000]];

  async function limitsOf(node: TopologyNode): Promise<Record<string, number>> {
    const out: Record<string, number> = {};
    for (const name of Object.keys(NEEDED)) {
      const reply = (await node.command(['GRAPH.CONFIG', 'GET', name])) as unknown[];
      out[name] = Number(Array.isArray(reply[0]) ? reply[0][1] : reply[1]);
    }
    return out;
  }

  it('gives the primary the sentinels promote the limits FalkorDB needs, and serves from it', async () => {
    const gateway = await gatewayWith();
    const client = await clientOf(gateway, 'lim');
    const first = await primaryPort();
    const standby = nodes.find((n) => n.port !== first);
    assert.ok(standby);
    // GRAPH.CONFIG SET is neither replicated nor kept over a restart: a standby may well have none of them.
    for (const [name, value] of UNSET) await standby.command(['GRAPH.CONFIG', 'SET', name, String(value)]);
    assert.equal((await limitsOf(standby)).TIMEOUT_MAX, 0);
    // Refused while the standby is still syncing (NOGOODSLAVE): asked again until it runs.
    await waitFor('a failover the sentinels accept', async () => ((await sentinels[0]!.command(['SENTINEL', 'FAILOVER', MASTER])) === 'OK' ? true : undefined), 60_000);
    await waitFor('the sentinels to name the standby', async () => ((await primaryPort()) === standby.port ? true : undefined), 60_000);
    await waitFor('the limits on the new primary', async () => (JSON.stringify(await limitsOf(standby)) === JSON.stringify(NEEDED) ? true : undefined), 60_000);
    await waitFor('a write served by the new primary', async () => ((await callTool(client, 'falkordb_query', { graphName: 'g', query: 'CREATE (:W {i: 1})' })).ok ? true : undefined), 60_000);
  });
});

describe('sentinel start-up errors', { timeout: 60_000 }, () => {
  const logger = testLogger();
  const options = () => ({
    nodes: sentinels.map((s) => ({ host: '127.0.0.1', port: s.port })),
    masterName: MASTER,
    sentinelPassword: undefined,
    password: topology.password,
    minReplicas: 1,
    waitTimeoutMs: 1000,
    failoverWaitMs: 5000,
    connectTimeoutMs: 1500,
    logger,
  });

  it('names a master the sentinels do not know', async () => {
    const error = await rejection(connectSentinel({ ...options(), masterName: 'no-such-master' }));
    assert.equal(error.code, 'DATABASE_UNREACHABLE');
    assert.match(error.message, /knows no master named "no-such-master"/);
    assert.match(error.message, /FALKORDB_SENTINEL_MASTER/);
  });

  it('says when no sentinel answers', async () => {
    const port = await freeLoopbackPort();
    const error = await rejection(connectSentinel({ ...options(), nodes: [{ host: '127.0.0.1', port }] }));
    assert.match(error.message, new RegExp(`127\\.0\\.0\\.1:${port}: connection refused`));
  });

  it('names the data nodes\' password variable when the primary refuses it, and never shows it', async () => {
    const error = await rejection(connectSentinel({ ...options(), password: 'wrong-password-123' }));
    assert.match(error.message, /authentication failed.*FALKORDB_SENTINEL_DATA_PASSWORD/);
    assert.doesNotMatch(error.message, /wrong-password-123|FALKORDB_URL/);
  });

  it('goes on to the next sentinel when the first is down', async () => {
    const port = await freeLoopbackPort();
    const db = await connectSentinel({ ...options(), nodes: [{ host: '127.0.0.1', port }, ...options().nodes], connectTimeoutMs: 20_000 });
    try {
      assert.equal(await db.sendCommand(['PING']), 'PONG');
    } finally {
      await db.close();
    }
  });
});

describe('sentinel configuration', () => {
  const sentinelEnv = { FALKORDB_SENTINELS: 's1:26379,s2,[::1]:26380', FALKORDB_SENTINEL_MASTER: 'mymaster' };

  it('reads the sentinels, with 26379 as the default port', () => {
    const sentinel = loadConfig(sentinelEnv).falkordb.sentinel;
    assert.deepEqual(sentinel?.nodes, [{ host: 's1', port: 26379 }, { host: 's2', port: 26379 }, { host: '::1', port: 26380 }]);
    assert.equal(sentinel?.masterName, 'mymaster');
    assert.equal(sentinel?.minReplicas, 1);
  });

  const refused: Array<[string, Record<string, string>, RegExp]> = [
    ['sentinels without a master name', { FALKORDB_SENTINELS: 's1:26379' }, /^FALKORDB_SENTINEL_MASTER is required with FALKORDB_SENTINELS/],
    ['a master name without sentinels', { FALKORDB_SENTINEL_MASTER: 'mymaster' }, /^FALKORDB_SENTINELS is required/],
    ['sentinels and FALKORDB_URL', { ...sentinelEnv, FALKORDB_URL: 'redis://db:6379' }, /FALKORDB_URL and FALKORDB_SENTINELS are both set/],
    ['sentinels and replicas', { ...sentinelEnv, FALKORDB_REPLICA_URLS: 'redis://r:6379' }, /FALKORDB_REPLICA_URLS and FALKORDB_SENTINELS/],
    ['a sentinel that is not host:port', { ...sentinelEnv, FALKORDB_SENTINELS: 's1:26379,redis://s2:26379' }, /^FALKORDB_SENTINELS .*"redis:\/\/s2:26379", which is not host:port/],
    ['a port out of range', { ...sentinelEnv, FALKORDB_SENTINELS: 's1:70000' }, /^FALKORDB_SENTINELS/],
    ['FALKORDB_SENTINEL_DATA_PASSWORD without sentinels', { FALKORDB_URL: 'redis://db:6379', FALKORDB_SENTINEL_DATA_PASSWORD: 'pw' }, /FALKORDB_SENTINEL_DATA_PASSWORD is only used with FALKORDB_SENTINELS/],
  ];
  for (const [what, env, message] of refused) {
    it(`refuses ${what}`, () => {
      assert.throws(() => loadConfig(env), (e: GatewayError) => e.code === 'CONFIG_INVALID' && message.test(e.message));
    });
  }

  it('never shows the data nodes\' password in an error', () => {
    assert.throws(() => loadConfig({ FALKORDB_URL: 'redis://db:6379', FALKORDB_SENTINEL_DATA_PASSWORD: 'hunter2-secret' }), (e: Error) => !e.message.includes('hunter2-secret'));
  });
});

describe('graphReplyWrote', () => {
  it('tells a query that changed the graph from one that did not', () => {
    assert.equal(graphReplyWrote([['Nodes created: 1', 'Cached execution: 0', 'Query internal execution time: 0.2 milliseconds']]), true);
    assert.equal(graphReplyWrote([[[1, 'n']], [[[3, '5']]], ['Cached execution: 1', 'Query internal execution time: 0.1 milliseconds']]), false);
    assert.equal(graphReplyWrote('unexpected'), true);
  });
});
