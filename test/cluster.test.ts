// FalkorDB on a 3-primary Valkey Cluster started by the test: graphs spread over
// the shards, listings ask every primary, and the gateway's own state (tokens,
// revocation, rate limits, usage) works with keys on any shard.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { loadConfig } from '../src/config/index.js';
import { connectCluster } from '../src/falkordb/cluster.js';
import type { RunningGateway } from '../src/main.js';
import { stateKeys } from '../src/state/keys.js';
import { tenantGraphKey } from '../src/tenancy/keys.js';
import { rejection } from './support/assertions.js';
import { runCliJson } from './support/cli.js';
import { startTestCluster, type TestCluster, type TestClusterNode } from './support/cluster.js';
import { startTestFalkorDB, testLogger } from './support/falkordb.js';
import { startTestGateway } from './support/gateway.js';
import { STATE_CACHE_EXPIRY_MS, getJson, postTokenForm, probeMcp } from './support/http.js';
import { tempDir, writeSigningKey } from './support/keys.js';
import { callTool, connectClient, mustCall } from './support/mcp.js';
import { signTestToken } from './support/tokens.js';

const RATE = 4;

let cluster: TestCluster;
let gateway: RunningGateway;
let twin: RunningGateway;
let keyFile: string;
const clients: Client[] = [];

function clusterEnv(extra: Record<string, string> = {}): Record<string, string> {
  return { FALKORDB_CLUSTER_URLS: cluster.urls[0]!, ...extra };
}

before(async () => {
  cluster = await startTestCluster();
  keyFile = await writeSigningKey(await tempDir());
  const env = clusterEnv({ AUTH_SIGNING_KEY_FILE: keyFile });
  // An empty FALKORDB_URL counts as unset: the cluster seeds name the database.
  gateway = await startTestGateway('', env);
  twin = await startTestGateway('', env);
});

after(async () => {
  for (const client of clients) await client.close().catch(() => undefined);
  await gateway?.stop();
  await twin?.stop();
  await cluster?.cleanup();
});

async function client(tenant: string, via: RunningGateway = gateway): Promise<Client> {
  const c = await connectClient('http', via.url, await signTestToken(tenant));
  clients.push(c);
  return c;
}

/** Graph keys each node holds, by asking every node alone (no redirection). */
async function graphKeysByNode(): Promise<Map<TestClusterNode, string[]>> {
  const byNode = new Map<TestClusterNode, string[]>();
  for (const node of cluster.nodes) {
    const keys: string[] = [];
    let cursor = '0';
    do {
      const [next, batch] = (await node.command(['SCAN', cursor, 'TYPE', 'graphdata', 'COUNT', '1000'])) as [string, string[]];
      keys.push(...batch);
      cursor = next;
    } while (cursor !== '0');
    byNode.set(node, keys);
  }
  return byNode;
}

async function slotOf(key: string): Promise<number> {
  return Number(await cluster.nodes[0]!.command(['CLUSTER', 'KEYSLOT', key]));
}

// Names whose keys hash to slots of all three primaries (the test checks where they land).
const ACME_GRAPHS = ['people', 'genes', 'parts', 'roads', 'cities', 'papers'];

describe('graphs on a cluster', () => {
  let acme: Client;

  before(async () => {
    acme = await client('cl-acme');
    for (const graph of ACME_GRAPHS) await mustCall(acme, 'falkordb_query', { graphName: graph, query: `CREATE (:Item {name: '${graph}', n: 1})` });
    // A tenant whose prefix starts like acme's, and one that is plainly someone else.
    const lookalike = await client('cl-acme_x');
    await mustCall(lookalike, 'falkordb_query', { graphName: 'people', query: 'CREATE (:Secret {v: 1})' });
    const widgets = await client('cl-widgets');
    for (const graph of ['people', 'stock']) await mustCall(widgets, 'falkordb_query', { graphName: graph, query: 'CREATE (:W)' });
  });

  it("spreads a tenant's graphs over the shards, each graph one key on the shard its slot names", async () => {
    const byNode = await graphKeysByNode();
    const holders = new Set<TestClusterNode>();
    for (const graph of ACME_GRAPHS) {
      const key = tenantGraphKey('cl-acme', graph);
      const owner = await cluster.nodeOfKey(key);
      assert.ok(byNode.get(owner)!.includes(key), `${key} is on the node that owns slot ${await slotOf(key)}`);
      for (const node of cluster.nodes) if (node !== owner) assert.ok(!byNode.get(node)!.includes(key), `${key} is on one node only`);
      holders.add(owner);
    }
    assert.equal(holders.size, 3, 'the six graphs land on all three primaries');
  });

  it("lists every one of the tenant's graphs, from every primary, and no one else's", async () => {
    const { graphs } = await mustCall(acme, 'falkordb_list_graphs');
    assert.deepEqual([...(graphs as string[])].sort(), [...ACME_GRAPHS].sort());
    const lookalike = await mustCall(await client('cl-acme_x'), 'falkordb_list_graphs');
    assert.deepEqual(lookalike['graphs'], ['people']);
    const widgets = await mustCall(await client('cl-widgets', twin), 'falkordb_list_graphs');
    assert.deepEqual([...(widgets['graphs'] as string[])].sort(), ['people', 'stock']);
  });

  it('runs read-only queries and plans on whichever shard holds the graph', async () => {
    const planner = await client('cl-plans');
    const shards = new Set<TestClusterNode>();
    for (const graph of ACME_GRAPHS) {
      await mustCall(planner, 'falkordb_query', { graphName: graph, query: `CREATE (:Item {name: '${graph}'})` });
      shards.add(await cluster.nodeOfKey(tenantGraphKey('cl-plans', graph)));
      const read = await mustCall(planner, 'falkordb_read_query', { graphName: graph, query: 'MATCH (i:Item) RETURN i.name AS name' });
      assert.deepEqual(read['rows'], [{ name: graph }]);
      const plan = await mustCall(planner, 'falkordb_explain', { graphName: graph, query: 'MATCH (i:Item) SET i.seen = true' });
      assert.equal(plan['writes'], true);
    }
    assert.ok(shards.size > 1, 'the graphs sit on more than one shard');
  });

  it('queries, reads the schema of and deletes a graph on whichever shard holds it', async () => {
    for (const graph of ACME_GRAPHS) {
      const read = await mustCall(acme, 'falkordb_query', { graphName: graph, query: 'MATCH (i:Item) RETURN i.name AS name, i.n AS n', readOnly: true });
      assert.deepEqual(read['rows'], [{ name: graph, n: 1 }]);
    }
    const schema = await mustCall(acme, 'falkordb_graph_schema', { graphName: 'roads' });
    assert.deepEqual((schema['labels'] as Array<{ name: string }>).map((l) => l.name), ['Item']);
    assert.deepEqual(schema['propertyKeys'], ['name', 'n']);

    const deleted = await mustCall(acme, 'falkordb_delete_graph', { graphName: 'genes' });
    assert.equal(deleted['deleted'], true);
    const { graphs } = await mustCall(acme, 'falkordb_list_graphs');
    assert.ok(!(graphs as string[]).includes('genes'));
    assert.equal(await (await cluster.nodeOfKey(tenantGraphKey('cl-acme', 'genes'))).command(['EXISTS', tenantGraphKey('cl-acme', 'genes')]), 0);
    const missing = await callTool(acme, 'falkordb_query', { graphName: 'genes', query: 'MATCH (n) RETURN n', readOnly: true });
    assert.equal(missing.ok, false);
    assert.doesNotMatch(missing.text, /cl-acme_|gw:|MOVED|ASK|CROSSSLOT/);
  });

  it('creates and drops a constraint on whichever shard holds the graph', async () => {
    for (const graph of ['people', 'parts', 'cities']) {
      const spec = { graphName: graph, kind: 'unique', entity: 'node', label: 'Item', properties: ['name'] };
      assert.equal((await mustCall(acme, 'falkordb_create_constraint', spec))['created'], true, graph);
      assert.equal((await callTool(acme, 'falkordb_query', { graphName: graph, query: `CREATE (:Item {name: '${graph}'})` })).error?.code, 'QUERY_FAILED', graph);
      assert.equal((await mustCall(acme, 'falkordb_drop_constraint', spec))['dropped'], true, graph);
    }
  });

  it("keeps another tenant's same-named graph apart, on its own key", async () => {
    const rows = await mustCall(await client('cl-acme_x'), 'falkordb_query', { graphName: 'people', query: 'MATCH (n) RETURN labels(n) AS l', readOnly: true });
    assert.deepEqual(rows['rows'], [{ l: ['Secret'] }]);
    const acmeRows = await mustCall(acme, 'falkordb_query', { graphName: 'people', query: 'MATCH (n) RETURN labels(n) AS l', readOnly: true });
    assert.deepEqual(acmeRows['rows'], [{ l: ['Item'] }]);
  });

  it('reports the database healthy only while every primary answers, and is ready', async () => {
    const health = await mustCall(acme, 'falkordb_health');
    assert.equal((health['database'] as Record<string, unknown>)['reachable'], true);
    assert.equal((await getJson(`${gateway.url}/readyz`)).status, 200);
    const info = await mustCall(acme, 'falkordb_server_info');
    assert.match(JSON.stringify(info), /4\.\d+\.\d+/);
  });
});

describe('tenant export and import on a cluster', () => {
  it('moves a tenant with its index and constraint between graphs on different shards', async () => {
    const source = await client('cl-move');
    const graphs = ['alpha', 'beta', 'gamma', 'delta'];
    for (const graph of graphs) {
      await mustCall(source, 'falkordb_query', { graphName: graph, query: 'UNWIND range(1, 50) AS i CREATE (:P {id: i})-[:R {w: i * 0.5}]->(:Q {name: toString(i)})' });
      await mustCall(source, 'falkordb_query', { graphName: graph, query: 'CREATE INDEX FOR (p:P) ON (p.id)' });
    }
    const constrained = tenantGraphKey('cl-move', 'alpha');
    await (await cluster.nodeOfKey(constrained)).command(['GRAPH.CONSTRAINT', 'CREATE', constrained, 'UNIQUE', 'NODE', 'P', 'PROPERTIES', '1', 'id']);
    const file = `${await tempDir()}/cl-move.jsonl`;
    const env = clusterEnv({ LOG_LEVEL: 'silent' });
    await runCliJson(['tenant', 'export', 'cl-move', '--out', file, '--json'], env);
    await runCliJson(['tenant', 'import', 'cl-move', '--in', file, '--rename-tenant', 'cl-moved', '--json'], env);

    const owners = new Set(await Promise.all(graphs.map((g) => cluster.nodeOfKey(tenantGraphKey('cl-moved', g)))));
    assert.ok(owners.size > 1, 'the imported graphs sit on more than one shard');
    const moved = await client('cl-moved', twin);
    assert.deepEqual([...((await mustCall(moved, 'falkordb_list_graphs'))['graphs'] as string[])].sort(), [...graphs].sort());
    for (const graph of graphs) {
      const counted = await mustCall(moved, 'falkordb_query', { graphName: graph, query: 'MATCH (p:P)-[r:R]->(q:Q) RETURN count(r) AS c, sum(r.w) AS w', readOnly: true });
      assert.deepEqual(counted['rows'], [{ c: 50, w: 637.5 }], graph);
    }
    const schema = await mustCall(moved, 'falkordb_graph_schema', { graphName: 'alpha' });
    assert.deepEqual(schema['constraints'], [{ kind: 'unique', entity: 'node', label: 'P', properties: ['id'], status: 'OPERATIONAL' }]);
    assert.ok((schema['indexes'] as string[]).includes('P.id range'), JSON.stringify(schema['indexes']));
    const duplicate = await callTool(moved, 'falkordb_query', { graphName: 'alpha', query: 'CREATE (:P {id: 1})' });
    assert.equal(duplicate.ok, false, 'the unique constraint holds on the imported graph');
  });
});

describe('gateway state on a cluster', () => {
  it('keeps the keys of one tenant (and of one token) on one slot, and different tenants apart', async () => {
    const tenantKeys = [
      stateKeys.tenant('cl-acme'),
      stateKeys.tenantCutoff('cl-acme'),
      stateKeys.deviceCutoff('cl-acme', 'laptop'),
      stateKeys.tenantTokens('cl-acme'),
      stateKeys.tenantFamilies('cl-acme'),
      stateKeys.cacheGraphVersion('cl-acme', 'people'),
      stateKeys.cacheGraphListVersion('cl-acme'),
    ];
    const slots = new Set(await Promise.all(tenantKeys.map(slotOf)));
    assert.equal(slots.size, 1, `one slot for ${tenantKeys.join(', ')}`);
    const jti = crypto.randomUUID();
    assert.equal(new Set(await Promise.all([stateKeys.token(jti), stateKeys.tokenLastUsed(jti), stateKeys.revokedJti(jti)].map(slotOf))).size, 1);
    const hash = 'ab'.repeat(32);
    assert.equal(new Set(await Promise.all([stateKeys.refresh(hash), stateKeys.refreshUsed(hash)].map(slotOf))).size, 1);
    assert.equal(new Set(await Promise.all([stateKeys.family('f1'), stateKeys.familyTokens('f1'), stateKeys.familyRevoked('f1')].map(slotOf))).size, 1);
    const perTenant = await Promise.all(['t1', 't2', 't3', 't4', 't5', 't6'].map((t) => slotOf(stateKeys.tenant(t))));
    assert.ok(new Set(perTenant).size > 1, 'tenants spread over slots');
  });

  it('issues, lists and revokes tokens (by jti, device and tenant), seen by the other instance', async () => {
    const issuer = gateway.issuer!;
    const one = await issuer.issue({ tenant: 'cl-tok', scopes: ['read'], device: 'laptop', actor: 'test' });
    const two = await issuer.issue({ tenant: 'cl-tok', scopes: ['read'], device: 'phone', actor: 'test' });
    const three = await issuer.issue({ tenant: 'cl-tok', scopes: ['read'], actor: 'test' });
    assert.equal((await probeMcp(twin.url, one.accessToken)).status, 200);

    // token list reads records whose keys sit on different shards.
    const listed = await twin.state.ledger.listTenant('cl-tok');
    assert.deepEqual(listed.map((t) => t.jti).sort(), [one.jti, two.jti, three.jti].sort());

    await gateway.state.ledger.revokeJti(one.jti, one.expiresIn + Math.floor(Date.now() / 1000));
    await gateway.state.ledger.revokeDevice('cl-tok', 'phone');
    await sleep(STATE_CACHE_EXPIRY_MS);
    for (const token of [one.accessToken, two.accessToken]) {
      const refused = await probeMcp(twin.url, token);
      assert.equal(refused.status, 401);
      assert.equal(refused.body['code'], 'TOKEN_REVOKED');
    }
    assert.equal((await probeMcp(twin.url, three.accessToken)).status, 200);

    await twin.state.ledger.revokeTenant('cl-tok');
    await sleep(STATE_CACHE_EXPIRY_MS);
    assert.equal((await probeMcp(gateway.url, three.accessToken)).body['code'], 'TOKEN_REVOKED');
    const after = await gateway.state.ledger.listTenant('cl-tok');
    assert.ok(after.every((t) => t.revoked !== undefined));
  });

  it('exchanges a refresh token on one instance and ends its family on the other when it comes back', async () => {
    const issued = await gateway.issuer!.issue({ tenant: 'cl-refresh', scopes: ['read'], device: 'laptop', withRefresh: true, actor: 'test' });
    const next = await postTokenForm(twin.url, { grant_type: 'refresh_token', refresh_token: issued.refreshToken! });
    assert.equal(next.status, 200, JSON.stringify(next.body));
    assert.equal((await probeMcp(gateway.url, String(next.body['access_token']))).status, 200);
    const reused = await postTokenForm(gateway.url, { grant_type: 'refresh_token', refresh_token: issued.refreshToken! });
    assert.match(String(reused.body['error_description']), /already used/);
    await sleep(STATE_CACHE_EXPIRY_MS);
    assert.equal((await probeMcp(twin.url, String(next.body['access_token']))).body['code'], 'TOKEN_REVOKED');
    assert.equal((await postTokenForm(twin.url, { grant_type: 'refresh_token', refresh_token: String(next.body['refresh_token']) })).status, 400);
    const families = await twin.state.refresh.listTenant('cl-refresh');
    assert.deepEqual(families.map((f) => f.revokedReason), ['refresh token reused']);
  });

  it('registers and lists tenants whose records sit on different shards', async () => {
    const ids = ['cl-reg-a', 'cl-reg-b', 'cl-reg-c', 'cl-reg-d', 'cl-reg-e'];
    for (const id of ids) await gateway.state.tenants.add({ id, plan: 'free' });
    const owners = new Set(await Promise.all(ids.map((id) => cluster.nodeOfKey(stateKeys.tenant(id)))));
    assert.ok(owners.size > 1, 'the records are spread');
    const listed = (await twin.state.tenants.list()).map((t) => t.id);
    for (const id of ids) assert.ok(listed.includes(id), `${id} listed`);
    await twin.state.tenants.remove('cl-reg-c');
    assert.ok(!(await gateway.state.tenants.list()).some((t) => t.id === 'cl-reg-c'));
  });

  it('counts the rate limit once across two instances, on the shard of the counter', async () => {
    const rateEnv = clusterEnv({ RATE_LIMIT_PER_MINUTE: String(RATE), RATE_LIMIT_BURST: '0' });
    const limited = [await startTestGateway('', rateEnv), await startTestGateway('', rateEnv)];
    try {
      const token = await signTestToken('cl-rate');
      for (let i = 1; i <= RATE; i++) {
        const ok = await probeMcp(limited[i % 2]!.url, token);
        assert.equal(ok.status, 200, JSON.stringify(ok.body));
        assert.equal(ok.headers.get('ratelimit-remaining'), String(RATE - i));
      }
      const refused = await probeMcp(limited[0]!.url, token);
      assert.equal(refused.status, 429);
      assert.equal(refused.body['code'], 'RATE_LIMITED');
      const counter = `${stateKeys.rateCounterPrefix()}:${stateKeys.rateCounterId('cl-rate')}`;
      assert.equal(Number(await (await cluster.nodeOfKey(counter)).command(['GET', counter])), RATE + 1);
    } finally {
      for (const g of limited) await g.stop();
    }
  });

  it("finds every tenant's usage counters, whichever shard holds them (`tenant usage`)", async () => {
    // Counter keys name the day, so which shard holds them changes daily: pick, today, one tenant per primary.
    const day = new Date().toISOString().slice(0, 10);
    const candidates = ['ant', 'bison', 'camel', 'dingo', 'eland', 'ferret', 'gecko', 'heron', 'ibis', 'jackal', 'koala', 'lemur', 'moose', 'newt', 'otter', 'panda'];
    const byNode = new Map<TestClusterNode, string>();
    for (const name of candidates) {
      const tenant = `cl-use-${name}`;
      const owner = await cluster.nodeOfKey(stateKeys.usageDay(tenant, day));
      if (!byNode.has(owner)) byNode.set(owner, tenant);
    }
    assert.equal(byNode.size, 3, 'one tenant whose counters are on each primary');
    const tenants = [...byNode.values()];
    for (const tenant of tenants) await mustCall(await client(tenant), 'falkordb_list_graphs');
    await gateway.usage.flush();
    const rows = await runCliJson<Array<{ tenant: string; requests: number }>>(['tenant', 'usage', '--json'], { FALKORDB_CLUSTER_URLS: cluster.urls[1]!, AUTH_SIGNING_KEY_FILE: keyFile, LOG_LEVEL: 'silent' });
    for (const tenant of tenants) assert.ok(rows.some((r) => r.tenant === tenant && r.requests > 0), `${tenant} listed`);
  });
});

describe('cluster start-up', () => {
  it('discovers every primary from one seed and checks each has the graph module', async () => {
    const db = await connectCluster({ urls: [cluster.urls[2]!], connectTimeoutMs: 5_000, logger: testLogger() });
    try {
      assert.match(db.address, /3 primaries/);
      assert.doesNotMatch(db.address, new RegExp(cluster.password));
      assert.match(db.moduleVersion, /^\d+\.\d+\.\d+$/);
      assert.equal(db.isReady, true);
    } finally {
      await db.close();
    }
    assert.equal(db.isReady, false);
  });

  it('refuses a cluster in which a primary lacks the FalkorDB module, naming it', async () => {
    const partial = await startTestCluster({ primaries: 2, withoutModule: [1] });
    try {
      const error = await rejection(connectCluster({ urls: [partial.urls[0]!], connectTimeoutMs: 5_000, logger: testLogger() }));
      assert.equal(error.code, 'DATABASE_NOT_FALKORDB');
      assert.match(error.message, new RegExp(`without the FalkorDB module .*127\\.0\\.0\\.1:${partial.nodes[1]!.port}`));
      assert.doesNotMatch(error.message, new RegExp(partial.password));
    } finally {
      await partial.cleanup();
    }
  });

  it('refuses a seed that is a single server, not a cluster node', async () => {
    const single = await startTestFalkorDB();
    try {
      const error = await rejection(connectCluster({ urls: [single.url], connectTimeoutMs: 5_000, logger: testLogger() }));
      assert.equal(error.code, 'DATABASE_CLUSTER_INVALID');
      assert.match(error.message, /not in cluster mode.*FALKORDB_URL/);
      assert.doesNotMatch(error.message, new RegExp(single.password));
    } finally {
      await single.cleanup();
    }
  });

  it('waits for a cluster whose slots are not all served, then says so', async () => {
    const unassigned = await startTestCluster({ primaries: 1, assignSlots: false });
    try {
      const error = await rejection(connectCluster({ urls: unassigned.urls, connectTimeoutMs: 500, logger: testLogger() }));
      assert.equal(error.code, 'DATABASE_CLUSTER_INVALID');
      assert.match(error.message, /no primary serves any hash slot yet/);
    } finally {
      await unassigned.cleanup();
    }
  });

  it('names the reason when no seed can be reached', async () => {
    const error = await rejection(connectCluster({ urls: ['redis://:pw@127.0.0.1:1'], connectTimeoutMs: 300, logger: testLogger() }));
    assert.equal(error.code, 'DATABASE_UNREACHABLE');
    assert.match(error.message, /connection refused.*FALKORDB_CLUSTER_URLS/);
  });

  it('stops at once on a wrong password, without showing it', async () => {
    const wrong = cluster.urls[0]!.replace(cluster.password, 'not-the-password');
    const error = await rejection(connectCluster({ urls: [wrong], connectTimeoutMs: 30_000, logger: testLogger() }));
    assert.equal(error.code, 'DATABASE_UNREACHABLE');
    assert.match(error.message, /authentication failed/);
    assert.doesNotMatch(error.message, /not-the-password/);
  });
});

describe('FALKORDB_CLUSTER_URLS', () => {
  const base = { AUTH_JWT_SECRET: 'x'.repeat(32) };
  const configError = (env: Record<string, string>) => {
    try {
      loadConfig({ ...base, ...env });
    } catch (error) {
      return error as { code: string; message: string };
    }
    assert.fail('expected the configuration to be refused');
  };

  it('takes comma-separated seeds', () => {
    const config = loadConfig({ ...base, FALKORDB_CLUSTER_URLS: 'redis://:pw@192.0.2.1:7000, redis://:pw@192.0.2.2:7000,' });
    assert.deepEqual(config.falkordb.clusterUrls, ['redis://:pw@192.0.2.1:7000', 'redis://:pw@192.0.2.2:7000']);
    assert.equal(config.falkordb.url, undefined);
    assert.equal(loadConfig(base).falkordb.clusterUrls, undefined);
  });

  it('refuses it together with FALKORDB_URL, replicas or sentinels', () => {
    for (const other of ['FALKORDB_URL', 'FALKORDB_REPLICA_URLS', 'FALKORDB_SENTINELS']) {
      const value = other === 'FALKORDB_SENTINELS' ? '127.0.0.1:26379' : 'redis://127.0.0.1:6379';
      const error = configError({ FALKORDB_CLUSTER_URLS: 'redis://127.0.0.1:7000', [other]: value });
      assert.equal(error.code, 'CONFIG_INVALID');
      assert.match(error.message, new RegExp(`FALKORDB_CLUSTER_URLS and ${other} are both set; set only one`));
    }
  });

  it('says which seed is bad and why, without showing any seed (they hold passwords)', () => {
    const cases: Array<[string, RegExp]> = [
      ['redis://:s3cret@192.0.2.1:7000,/var/run/valkey.sock', /seed 2 of 2, which is not a URL/],
      ['redis://:s3cret@192.0.2.1:7000,http://192.0.2.2:7000', /seed 2 of 2 with the scheme http:/],
      ['redis://:s3cret@192.0.2.1:7000/2', /seed 1 of 1 with a database number/],
      ['redis://:s3cret@192.0.2.1:7000,redis://:other@192.0.2.2:7000', /seed 2 of 2 with another scheme, user or password than seed 1/],
      ['redis://:s3cret@192.0.2.1:7000,rediss://:s3cret@192.0.2.2:7000', /another scheme/],
      [' , ', /at least one seed/],
    ];
    for (const [value, problem] of cases) {
      const error = configError({ FALKORDB_CLUSTER_URLS: value });
      assert.equal(error.code, 'CONFIG_INVALID');
      assert.match(error.message, /^FALKORDB_CLUSTER_URLS \(value hidden\)/);
      assert.match(error.message, problem);
      assert.doesNotMatch(error.message, /s3cret|192\.0\.2/);
    }
  });
});

// Last: it takes a primary away and brings it back.
describe('a primary going away and coming back', () => {
  /** A query as the client sees it: a result, a tool error, or (when the request's own state checks hit the shard) an HTTP error. */
  async function tryQuery(c: Client, args: Record<string, unknown>): Promise<{ ok: boolean; text: string }> {
    try {
      return await callTool(c, 'falkordb_query', args);
    } catch (error) {
      return { ok: false, text: error instanceof Error ? error.message : String(error) };
    }
  }

  it('fails calls that need it with DATABASE_UNREACHABLE and /readyz 503, then recovers without a restart', async () => {
    const acme = await client('cl-outage');
    await mustCall(acme, 'falkordb_query', { graphName: 'people', query: 'CREATE (:P)' });
    const owner = await cluster.nodeOfKey(tenantGraphKey('cl-outage', 'people'));
    await owner.stop();
    try {
      const { ok, text } = await tryQuery(acme, { graphName: 'people', query: 'MATCH (p:P) RETURN count(p) AS n', readOnly: true });
      assert.equal(ok, false);
      assert.match(text, /DATABASE_UNREACHABLE/);
      assert.doesNotMatch(text, /cl-outage_|gw:|\n\s+at |password/);
      assert.doesNotMatch(text, new RegExp(cluster.password));
      assert.equal((await getJson(`${gateway.url}/readyz`)).status, 503);
    } finally {
      await owner.start();
    }
    // The node's data is gone (no persistence in this test); writing the graph again proves the way back.
    const deadline = Date.now() + 30_000;
    for (;;) {
      const again = await tryQuery(acme, { graphName: 'people', query: 'CREATE (:P) RETURN 1 AS ok' });
      if (again.ok) break;
      assert.ok(Date.now() < deadline, `still failing after 30 s: ${again.text}`);
      await sleep(200);
    }
    assert.equal((await getJson(`${gateway.url}/readyz`)).status, 200);
  });
});
