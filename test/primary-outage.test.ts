// Reads through a primary outage: a primary and a read replica started here, a real
// gateway and MCP client in front. The primary is killed; read-only calls must go on
// from the replica, writes must fail at once with PRIMARY_UNAVAILABLE, and once the
// primary is back, writes work again and the audit events of the outage reach it.

import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { decodeJwt } from 'jose';
import assert from 'node:assert/strict';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import type { RunningGateway } from '../src/main.js';
import { stateKeys } from '../src/state/keys.js';
import { startTestGateway } from './support/gateway.js';
import { callTool, connectClient, mustCall, type ToolOutcome } from './support/mcp.js';
import { getJson, probeMcp, STATE_CACHE_EXPIRY_MS } from './support/http.js';
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

async function startPair(): Promise<void> {
  topology = await startTopology();
  primary = await topology.startNode();
  replica = await topology.startNode({ replicaOf: primary });
}

async function stopAll(): Promise<void> {
  await client?.close().catch(() => {});
  await gateway?.stop();
  await topology?.cleanup();
}

async function setUpReads(env: Record<string, string> = {}): Promise<void> {
  await startPair();
  gateway = await startTestGateway(primary.url, { FALKORDB_REPLICA_URLS: replica.url, FALKORDB_READ_AFTER_WRITE_MS: '0', RATE_LIMIT_PER_MINUTE: '600', ...env });
  client = await connectClient('http', gateway.url, await signTestToken(TENANT, { scope: 'read write' }));
  await mustCall(client, 'falkordb_query', { graphName: GRAPH, query: 'UNWIND range(1, 3) AS i CREATE (:Item {n: i})' });
  await waitFor('the replica holding the seeded graph', async () => {
    const reply = (await replica.command(['GRAPH.RO_QUERY', `${TENANT}_${GRAPH}`, 'MATCH (n:Item) RETURN count(n)'])) as [unknown, number[][]];
    return Number(reply[1][0]?.[0]) === 3 ? true : undefined;
  });
  await waitFor('the replica in the rotation', () => (replicaReady() ? true : undefined));
}

function replicaReady(): boolean {
  const db = gateway.database.db as { readReplicas?: string[] };
  return (db.readReplicas ?? []).length > 0;
}

/** The events in the tenant's audit stream on the primary, oldest first. */
async function auditEvents(): Promise<Array<Record<string, string>>> {
  const reply = (await primary.command(['XRANGE', stateKeys.tenantAudit(TENANT), '-', '+'])) as Array<[string, string[]]>;
  return reply.map(([, flat]) => {
    const fields: Record<string, string> = {};
    for (let i = 0; i + 1 < flat.length; i += 2) fields[flat[i]!] = flat[i + 1]!;
    return fields;
  });
}

/** Reads served during the outage: the gateway has switched to the replica. */
async function readsFromReplica(): Promise<void> {
  await waitFor('a read served during the outage', async () => ((await countItems()).ok ? true : undefined), 30_000);
}

/** The value of one unlabelled gauge in the gateway's metrics. */
async function gauge(name: string): Promise<number | undefined> {
  const text = await (await fetch(gateway.metricsUrl!)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${name} `));
  return line === undefined ? undefined : Number(line.split(' ')[1]);
}

describe('reads through a primary outage', { timeout: 180_000 }, () => {
  before(() => setUpReads({ METRICS_PORT: '0' }));
  after(stopAll);

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
    assert.deepEqual((schema['labels'] as Array<{ name: string }>).map((l) => l.name), ['Item']);
    const rows = await mustCall(client, 'falkordb_read_query', { graphName: GRAPH, query: 'MATCH (n:Item) RETURN count(n) AS items' });
    assert.deepEqual(rows['rows'], [{ items: 3 }]);
    // FalkorDB counts GRAPH.EXPLAIN among the write commands, which a replica refuses: only the primary plans.
    const plan = await callTool(client, 'falkordb_explain', { graphName: GRAPH, query: 'MATCH (n:Item) RETURN n' });
    assert.equal(plan.error?.code, 'PRIMARY_UNAVAILABLE', plan.text);
    assert.match(plan.error?.message ?? '', /only it makes query plans.*falkordb_read_query/);
    const info = await mustCall(client, 'falkordb_server_info');
    assert.equal(info['tenant'], TENANT);
  });

  it('answers /readyz with 200 and status degraded, and says so in a gauge, while the primary is down', async () => {
    const ready = await getJson(`${gateway.url}/readyz`);
    assert.equal(ready.status, 200);
    assert.equal(ready.body['status'], 'degraded');
    assert.match(String(ready.body['reason']), /read-only calls are served from the read replicas/);
    assert.equal(await gauge('falkordb_gateway_degraded'), 1);
  });

  it('refuses a write while the primary is down with PRIMARY_UNAVAILABLE, saying reads still work', async () => {
    assert.equal(primary.running, false);
    const write = await callTool(client, 'falkordb_query', { graphName: GRAPH, query: 'CREATE (:Item {n: 4})' });
    assert.equal(write.ok, false);
    assert.equal(write.error?.code, 'PRIMARY_UNAVAILABLE');
    assert.match(write.error?.message ?? '', /writes are refused until it is back/);
    assert.match(write.error?.message ?? '', /read-only calls are still served/);
  });

  it('takes writes again once the primary is back, and writes the audit events of the outage to it, in order', async () => {
    // The primary kept nothing (no persistence in these tests); the replica resyncs from it.
    await primary.restart();
    const written = await waitFor('a write accepted after the primary returned', async () => {
      const outcome = await callTool(client, 'falkordb_query', { graphName: GRAPH, query: 'CREATE (:Item {n: 5}) RETURN 1 AS done' });
      return outcome.ok ? outcome : undefined;
    }, 30_000);
    assert.equal(written.ok, true);
    const events = await waitFor('the outage\'s audit events on the primary', async () => {
      const found = await auditEvents();
      return found.some((e) => e.event === 'query_error' && e.errorCode === 'PRIMARY_UNAVAILABLE') ? found : undefined;
    }, 30_000);
    // The restarted primary started empty: everything in its stream was held by the gateway, or came after.
    const outage = events.map((e) => (e.event === 'query_error' ? `error:${e.errorCode}` : `${e.event}:${e.tool}`));
    const listed = outage.indexOf('query_success:falkordb_list_graphs');
    const schema = outage.indexOf('query_success:falkordb_graph_schema');
    const refused = outage.indexOf('error:PRIMARY_UNAVAILABLE');
    assert.ok(listed >= 0 && schema > listed && refused > schema, `the outage's events, in the order of the calls: ${JSON.stringify(outage)}`);
    assert.equal(gateway.state.audit.heldEvents(), 0);
    assert.equal((await getJson(`${gateway.url}/readyz`)).body['status'], 'ready');
    assert.equal(await gauge('falkordb_gateway_degraded'), 0);
  });
});

describe('the policy as last seen, while the primary is down', { timeout: 180_000 }, () => {
  before(() => setUpReads());
  after(stopAll);

  it('keeps a revoked token revoked and a disabled tenant disabled, though the replica lags behind', async () => {
    const revoked = await signTestToken('lagging', { scope: 'read' });
    const jti = String(decodeJwt(revoked).jti);
    await gateway.state.ledger.revokeJti(jti, Number(decodeJwt(revoked).exp));
    await gateway.state.tenants.add({ id: 'off' });
    await gateway.state.tenants.setEnabled('off', false);
    const disabled = await signTestToken('off', { scope: 'read' });
    await sleep(STATE_CACHE_EXPIRY_MS);
    // This instance reads both from the primary.
    assert.equal((await probeMcp(gateway.url, revoked)).status, 401);
    assert.equal((await probeMcp(gateway.url, disabled)).status, 403);
    // A replica that has not received them yet: the revocation and the disable are missing there.
    await waitFor('the replica holding the revocation', async () => ((await replica.command(['GET', stateKeys.revokedJti(jti)])) !== null ? true : undefined));
    await replica.command(['CONFIG', 'SET', 'replica-read-only', 'no']);
    await replica.command(['DEL', stateKeys.revokedJti(jti)]);
    const record = JSON.parse(String(await replica.command(['GET', stateKeys.tenant('off')]))) as Record<string, unknown>;
    await replica.command(['SET', stateKeys.tenant('off'), JSON.stringify({ ...record, status: 'enabled', disabledAt: undefined })]);

    await primary.kill();
    await readsFromReplica();
    await sleep(STATE_CACHE_EXPIRY_MS);
    const refusedToken = await probeMcp(gateway.url, revoked);
    assert.equal(refusedToken.status, 401, JSON.stringify(refusedToken.body));
    assert.match(JSON.stringify(refusedToken.body), /TOKEN_REVOKED/);
    const refusedTenant = await probeMcp(gateway.url, disabled);
    assert.equal(refusedTenant.status, 403, JSON.stringify(refusedTenant.body));
    assert.match(JSON.stringify(refusedTenant.body), /TENANT_DISABLED/);
  });
});

describe('rate limits while the primary is down', { timeout: 180_000 }, () => {
  const RATE = 20;
  before(() => setUpReads({ RATE_LIMIT_PER_MINUTE: String(RATE), RATE_LIMIT_BURST: '0' }));
  after(stopAll);

  it('still refuses a tenant over its rate, counted by this instance alone', async () => {
    await primary.kill();
    await readsFromReplica();
    // Each call is one POST, counted once; over the rate the POST itself gets 429, which the client throws.
    const outcomes: string[] = [];
    for (let i = 0; i < RATE + 5; i++) {
      outcomes.push(await countItems().then((o) => (o.ok ? 'ok' : (o.error?.code ?? 'error')), (e: unknown) => (/RATE_LIMITED/.test(String(e)) ? 'RATE_LIMITED' : String(e))));
    }
    assert.ok(outcomes.includes('RATE_LIMITED'), `no call of ${outcomes.length} was refused: ${JSON.stringify(outcomes)}`);
    assert.ok(outcomes.filter((o) => o === 'ok').length <= RATE, `more calls than the rate went through: ${JSON.stringify(outcomes)}`);
  });
});

describe('a primary that is connected but hung', { timeout: 180_000 }, () => {
  before(() => setUpReads());
  after(async () => {
    // Never leave a frozen server behind.
    if (primary?.pid !== undefined && primary.running) process.kill(primary.pid, 'SIGCONT');
    await stopAll();
  });

  it('serves reads from the replica, refuses writes, and takes writes again once it answers', async () => {
    process.kill(primary.pid!, 'SIGSTOP');
    // Its connections stay open: only the health checks that go unanswered tell the gateway.
    await readsFromReplica();
    const write = await callTool(client, 'falkordb_query', { graphName: GRAPH, query: 'CREATE (:Item {n: 4})' });
    assert.equal(write.error?.code, 'PRIMARY_UNAVAILABLE', write.text);
    process.kill(primary.pid!, 'SIGCONT');
    await waitFor('a write accepted after the primary answered again', async () => ((await callTool(client, 'falkordb_query', { graphName: GRAPH, query: 'CREATE (:Item {n: 5})' })).ok ? true : undefined), 30_000);
    // The refused write left nothing; the later one is there (on the replica too, once it has caught up).
    await waitFor('the graph holding the three seeded items and the later one', async () => {
      const counted = await mustCall(client, 'falkordb_query', { graphName: GRAPH, query: 'MATCH (n:Item) RETURN count(n) AS items' });
      const items = (counted['rows'] as Array<{ items: number }>)[0]?.items;
      assert.ok(items === 3 || items === 4, `${items} items`);
      return items === 4 ? true : undefined;
    });
  });
});

describe('reads through a primary outage with TENANT_ISOLATION=acl', { timeout: 180_000 }, () => {
  before(() => setUpReads({ TENANT_ISOLATION: 'acl', ACL_USER_SECRET: 'primary-outage-acl-user-secret-0123456789', RATE_LIMIT_PER_MINUTE: '0' }));
  after(stopAll);

  it("serves a tenant's reads as its own database user on the replica, and refuses its writes with PRIMARY_UNAVAILABLE", async () => {
    await primary.kill();
    const read = await waitFor('a read served during the outage', async () => {
      const outcome = await countItems();
      return outcome.ok ? outcome : undefined;
    }, 30_000);
    assert.deepEqual(read.structured?.['rows'], [{ items: 3 }]);
    assert.deepEqual((await mustCall(client, 'falkordb_list_graphs'))['graphs'], [GRAPH]);
    assert.deepEqual((await mustCall(client, 'falkordb_read_query', { graphName: GRAPH, query: 'MATCH (n:Item) RETURN count(n) AS items' }))['rows'], [{ items: 3 }]);
    const write = await callTool(client, 'falkordb_query', { graphName: GRAPH, query: 'CREATE (:Item {n: 4})' });
    assert.equal(write.error?.code, 'PRIMARY_UNAVAILABLE', write.text);
  });
});
