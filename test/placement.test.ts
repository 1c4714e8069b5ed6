// Tenant placement on two real FalkorDB servers: the shared one (FALKORDB_URL,
// also the gateway's own state) and a database target (DATABASE_TARGETS).
// Tenant A is placed on the target, tenant B stays on the shared database.
// Through every kind of client, A's graphs exist on the target alone and B's on
// the shared server alone (checked on both servers directly), and neither sees
// anything of the other; the CLI (show, usage, export, import, remove) works on
// the tenant's own database; acl isolation works on the target; a target that
// stops answering fails only its tenants' calls, in words that name no server,
// and is used again once back; an instance that does not know the target never
// runs the tenant's calls on the shared database; and a second instance follows
// a placement change within a second.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { Client as ClientV2, StreamableHTTPClientTransport as HttpTransportV2 } from '@modelcontextprotocol/client';
import { tenantUserName } from '../src/falkordb/acl-users.js';
import { connectDatabase } from '../src/falkordb/connection.js';
import type { Database } from '../src/falkordb/database.js';
import { GraphClient } from '../src/falkordb/graphs.js';
import type { RunningGateway } from '../src/main.js';
import { stateKeys } from '../src/state/keys.js';
import { tenantGraphKey, tenantKeyPrefix } from '../src/tenancy/keys.js';
import { runCli, runCliJson } from './support/cli.js';
import { startTestFalkorDB, testLogger, type TestFalkorDB } from './support/falkordb.js';
import { startTestGateway } from './support/gateway.js';
import { STATE_CACHE_EXPIRY_MS } from './support/http.js';
import { tempDir } from './support/keys.js';
import { callTool, connectClient, connectStdioClient, mustCall, type ToolOutcome } from './support/mcp.js';
import { waitFor } from './support/topology.js';
import { signTestToken } from './support/tokens.js';

const A = 'place-a';
const B = 'place-b';
const TARGET = 'dedicated-1';
/** Anything of B's in what A is given, and the other way round; and key prefixes in either. */
const LEAK_OF_B = /BShared|bprop|place-b/;
const LEAK_OF_A = /APlaced|aprop|place-a/;

let shared: TestFalkorDB;
let target: TestFalkorDB;
let sharedDb: Database;
let targetDb: Database;
let gateway: RunningGateway;
/** What every gateway and CLI command of the placed deployment gets, besides FALKORDB_URL. */
let targetEnv: Record<string, string>;
let cliEnv: Record<string, string>;
let dir: string;
const gateways: RunningGateway[] = [];
const clients: Array<{ close(): Promise<void> }> = [];

before(async () => {
  [shared, target] = await Promise.all([startTestFalkorDB(), startTestFalkorDB()]);
  const connect = (server: TestFalkorDB) => connectDatabase({ url: server.url, connectTimeoutMs: 5000, logger: testLogger() });
  [sharedDb, targetDb] = await Promise.all([connect(shared), connect(target)]);
  dir = await tempDir('placement-');
  targetEnv = { DATABASE_TARGETS: TARGET, DATABASE_TARGET_DEDICATED_1_URL: target.url, TENANTS_REQUIRE_REGISTRATION: 'true' };
  cliEnv = { FALKORDB_URL: shared.url, ...targetEnv, LOG_LEVEL: 'silent' };
  for (const args of [['tenant', 'add', A, '--database', TARGET], ['tenant', 'add', B]]) {
    const done = await runCli(args, cliEnv);
    assert.equal(done.code, 0, done.stderr);
  }
  gateway = await gatewayOn(shared.url, targetEnv);
});

after(async () => {
  await Promise.allSettled(clients.map((c) => c.close()));
  for (const g of gateways) await g.stop();
  await Promise.allSettled([sharedDb?.close(), targetDb?.close()]);
  await Promise.allSettled([shared?.cleanup(), target?.cleanup()]);
});

async function gatewayOn(url: string, env: Record<string, string>): Promise<RunningGateway> {
  const started = await startTestGateway(url, env);
  gateways.push(started);
  return started;
}

/** The graphs of `tenant` a server holds, found by SCAN on the server itself, without the prefix. */
async function graphsOn(db: Database, tenant: string): Promise<string[]> {
  const prefix = tenantKeyPrefix(tenant);
  const keys = await new GraphClient(db).listKeys(prefix);
  return keys.map((key) => key.slice(prefix.length)).sort();
}

type Kind = 'v1 /mcp' | 'v1 /sse' | 'v2 2026-07-28 /mcp' | 'v2 2025 /mcp' | 'v1 stdio';
const KINDS: readonly Kind[] = ['v1 /mcp', 'v1 /sse', 'v2 2026-07-28 /mcp', 'v2 2025 /mcp', 'v1 stdio'];

/** A client of `kind` for `tenant` on `on` (stdio: the `stdio --tenant` command with the same environment as the gateway). */
async function clientOf(kind: Kind, tenant: string, on: RunningGateway = gateway): Promise<Client> {
  let client: Client;
  if (kind === 'v1 stdio') {
    client = await connectStdioClient(tenant, { FALKORDB_URL: shared.url, ...targetEnv });
  } else if (kind === 'v1 /mcp' || kind === 'v1 /sse') {
    client = await connectClient(kind === 'v1 /mcp' ? 'http' : 'sse-header', on.url, await signTestToken(tenant));
  } else {
    const v2 = new ClientV2({ name: 'placement-test', version: '1.0.0' }, { versionNegotiation: { mode: kind === 'v2 2025 /mcp' ? 'legacy' : { pin: '2026-07-28' } } });
    await v2.connect(new HttpTransportV2(new URL(`${on.url}/mcp`), { requestInit: { headers: { Authorization: `Bearer ${await signTestToken(tenant)}` } } }));
    // The tests use what the two clients have alike: callTool, listResources, readResource, close.
    client = v2 as unknown as Client;
  }
  clients.push(client);
  return client;
}

async function listed(client: Client): Promise<string[]> {
  return ((await mustCall(client, 'falkordb_list_graphs'))['graphs'] as string[]).slice().sort();
}

/** Everything a tenant's client shows of its graphs: the list, each schema, the resources and health, as one text. */
async function everythingSeen(client: Client, graphs: readonly string[]): Promise<string> {
  const seen: unknown[] = [await mustCall(client, 'falkordb_list_graphs'), await mustCall(client, 'falkordb_health')];
  for (const graph of graphs) seen.push(await mustCall(client, 'falkordb_graph_schema', { graphName: graph }));
  const resources = await client.listResources();
  seen.push(resources);
  for (const resource of resources.resources) seen.push(await client.readResource({ uri: resource.uri }));
  return JSON.stringify(seen);
}

/** The tenant-facing words of a failed call name no server: no address, no port, no target or its variables, no key prefix. */
function assertNamesNoServer(outcome: ToolOutcome): void {
  assert.equal(outcome.ok, false, outcome.text);
  const message = outcome.error?.message ?? outcome.text;
  for (const word of ['127.0.0.1', 'localhost', 'redis://', String(shared.port), String(target.port), TARGET, 'DATABASE_TARGET', tenantKeyPrefix(A)]) {
    assert.ok(!message.includes(word), `the message names no server (${word}): ${message}`);
  }
}

describe('tenant A placed on a database target, tenant B on the shared database', () => {
  KINDS.forEach((kind, i) => {
    it(`${kind}: A's graphs exist on the target only and B's on the shared server only; each lists, describes and reads its own alone`, async () => {
      const a = await clientOf(kind, A);
      const b = await clientOf(kind, B);
      // The same graph name for both: each tenant's own.
      const graph = `g-${i}`;
      await mustCall(a, 'falkordb_query', { graphName: graph, query: 'CREATE (:APlaced {aprop: $n})', parameters: { n: i } });
      await mustCall(b, 'falkordb_query', { graphName: graph, query: 'CREATE (:BShared {bprop: $n})', parameters: { n: i } });

      const aOnTarget = await graphsOn(targetDb, A);
      assert.ok(aOnTarget.includes(graph), `A's ${graph} is on the target`);
      assert.deepEqual(await graphsOn(sharedDb, A), [], 'nothing of A on the shared server');
      const bOnShared = await graphsOn(sharedDb, B);
      assert.ok(bOnShared.includes(graph), `B's ${graph} is on the shared server`);
      assert.deepEqual(await graphsOn(targetDb, B), [], 'nothing of B on the target');

      // What each lists is exactly what its own database holds.
      assert.deepEqual(await listed(a), aOnTarget);
      assert.deepEqual(await listed(b), bOnShared);
      const aSchema = await mustCall(a, 'falkordb_graph_schema', { graphName: graph });
      assert.deepEqual((aSchema['labels'] as Array<{ name: string }>).map((l) => l.name), ['APlaced']);
      const bSchema = await mustCall(b, 'falkordb_graph_schema', { graphName: graph });
      assert.deepEqual((bSchema['labels'] as Array<{ name: string }>).map((l) => l.name), ['BShared']);
      const read = await mustCall(a, 'falkordb_query', { graphName: graph, query: 'MATCH (n) RETURN labels(n)[0] AS label, n.aprop AS p', readOnly: true });
      assert.deepEqual(read['rows'], [{ label: 'APlaced', p: i }]);

      // Resources: the graph list and one schema per graph of the caller's own database.
      const resources = await a.listResources();
      assert.deepEqual(resources.resources.map((r) => r.uri), ['falkordb://graphs', ...aOnTarget.map((g) => `falkordb://graphs/${g}/schema`)]);
      const schemaResource = await a.readResource({ uri: `falkordb://graphs/${graph}/schema` });
      assert.match(JSON.stringify(schemaResource), /APlaced/);

      // Health pings each caller's own database and counts its own graphs there.
      const aHealth = await mustCall(a, 'falkordb_health');
      assert.equal((aHealth['database'] as Record<string, unknown>)['reachable'], true);
      assert.equal(aHealth['graphCount'], aOnTarget.length);
      assert.equal(aHealth['tenant'], A);
      const bHealth = await mustCall(b, 'falkordb_health');
      assert.equal(bHealth['graphCount'], bOnShared.length);

      assert.doesNotMatch(await everythingSeen(a, aOnTarget), LEAK_OF_B);
      assert.doesNotMatch(await everythingSeen(b, bOnShared), LEAK_OF_A);
    });
  });

  it("keeps the gateway's own state on the shared server: the target holds A's graphs and nothing of the registry, tokens, audit or usage", async () => {
    const keys: string[] = [];
    let cursor = '0';
    do {
      const [next, batch] = (await targetDb.sendCommand(['SCAN', cursor, 'COUNT', '1000'])) as [string, string[]];
      cursor = String(next);
      keys.push(...batch);
    } while (cursor !== '0');
    const prefix = tenantKeyPrefix(A);
    // Cache version tokens sit beside the graphs they describe, so that every instance sees the writes.
    const other = keys.filter((key) => !key.startsWith(prefix) && !key.startsWith(`gw:cache-version:{${A}}:`));
    assert.deepEqual(other, [], 'nothing else on the target');
    assert.ok(keys.some((key) => key.startsWith(prefix)));
    await gateway.state.audit.flush();
    for (const key of [stateKeys.tenant(A), stateKeys.tenantAudit(A)]) {
      assert.equal(await sharedDb.sendCommand(['EXISTS', key]), 1, `${key} on the shared server`);
    }
  });

  it('deletes a graph of A on the target, leaving B\'s graph of the same name on the shared server', async () => {
    const a = await clientOf('v1 /mcp', A);
    const b = await clientOf('v1 /mcp', B);
    await mustCall(a, 'falkordb_query', { graphName: 'doomed', query: 'CREATE (:APlaced)' });
    await mustCall(b, 'falkordb_query', { graphName: 'doomed', query: 'CREATE (:BShared)' });
    assert.deepEqual(await mustCall(a, 'falkordb_delete_graph', { graphName: 'doomed' }), { graph: 'doomed', deleted: true });
    assert.ok(!(await graphsOn(targetDb, A)).includes('doomed'));
    assert.ok((await graphsOn(sharedDb, B)).includes('doomed'));
    assert.ok(!(await listed(a)).includes('doomed'));
    assert.ok((await listed(b)).includes('doomed'));
  });
});

describe('the CLI works on the tenant\'s own database', () => {
  it('tenant show names the target and counts the graphs A has there; tenant list shows the database column', async () => {
    const onTarget = await graphsOn(targetDb, A);
    assert.ok(onTarget.length > 0);
    const json = await runCliJson(['tenant', 'show', A, '--json'], cliEnv);
    assert.equal(json['database'], TARGET);
    assert.equal(json['graphs'], onTarget.length);
    assert.ok(((json['storage'] as Record<string, number>)['usedBytes'] ?? 0) > 0, 'storage measured where the graphs are');
    const text = await runCli(['tenant', 'show', A], cliEnv);
    assert.equal(text.code, 0, text.stderr);
    assert.match(text.stdout, /^database:\s+dedicated-1$/m);
    assert.match(text.stdout, new RegExp(`^graphs:\\s+${onTarget.length}$`, 'm'));
    const other = await runCliJson(['tenant', 'show', B, '--json'], cliEnv);
    assert.equal(other['database'], undefined);
    assert.equal(other['graphs'], (await graphsOn(sharedDb, B)).length);
    const list = await runCli(['tenant', 'list'], cliEnv);
    assert.equal(list.code, 0, list.stderr);
    assert.match(list.stdout, /DATABASE/);
    assert.match(list.stdout, new RegExp(`^${A}\\b.*\\bdedicated-1\\b`, 'm'));
    assert.match(list.stdout, new RegExp(`^${B}\\b.*\\bdefault\\b`, 'm'));
  });

  it("tenant usage measures A's storage on the target and B's on the shared server", async () => {
    const done = await runCli(['tenant', 'usage'], cliEnv);
    assert.equal(done.code, 0, done.stderr);
    const storageOf = (tenant: string) => new RegExp(`^${tenant}\\s+(\\S+ \\S*B)\\s`, 'm').exec(done.stdout)?.[1];
    const shownA = storageOf(A);
    const shownB = storageOf(B);
    assert.ok(shownA !== undefined && shownB !== undefined, done.stdout);
    assert.doesNotMatch(shownA, /^0 B$/, `A's storage is measured on the target: ${done.stdout}`);
    assert.doesNotMatch(shownB, /^0 B$/, done.stdout);
    const show = await runCliJson(['tenant', 'show', A, '--json'], cliEnv);
    assert.ok(((show['storage'] as Record<string, number>)['usedBytes'] ?? 0) > 0);
  });

  it('tenant export reads A\'s graphs from the target, and tenant import loads them back onto the target', async () => {
    const file = path.join(dir, 'a.jsonl');
    const before = await graphsOn(targetDb, A);
    const exported = await runCliJson<{ graphs: Array<{ name: string }> }>(['tenant', 'export', A, '--out', file, '--json', '--quiet'], cliEnv);
    assert.deepEqual(exported.graphs.map((g) => g.name).sort(), before);
    const content = await readFile(file, 'utf8');
    assert.match(content, /APlaced/);
    assert.doesNotMatch(content, /BShared/);

    // Lose one graph on the target, then restore the export there.
    await targetDb.sendCommand(['GRAPH.DELETE', tenantGraphKey(A, before[0]!)]);
    assert.ok(!(await graphsOn(targetDb, A)).includes(before[0]!));
    const imported = await runCli(['tenant', 'import', A, '--in', file, '--on-conflict', 'replace', '--quiet'], cliEnv);
    assert.equal(imported.code, 0, imported.stderr);
    assert.deepEqual(await graphsOn(targetDb, A), before);
    assert.deepEqual(await graphsOn(sharedDb, A), [], 'nothing imported onto the shared server');
    const a = await clientOf('v1 /mcp', A);
    assert.deepEqual(await listed(a), before);
  });

  it('tenant remove --purge-graphs deletes the graphs of a placed tenant on the target, and nothing of another tenant', async () => {
    const C = 'place-c';
    const added = await runCli(['tenant', 'add', C, '--database', TARGET], cliEnv);
    assert.equal(added.code, 0, added.stderr);
    await sleep(STATE_CACHE_EXPIRY_MS);
    const c = await clientOf('v1 /mcp', C);
    await mustCall(c, 'falkordb_query', { graphName: 'c1', query: 'CREATE (:C)' });
    await mustCall(c, 'falkordb_query', { graphName: 'c2', query: 'CREATE (:C)' });
    assert.deepEqual(await graphsOn(targetDb, C), ['c1', 'c2']);
    const aBefore = await graphsOn(targetDb, A);
    const bBefore = await graphsOn(sharedDb, B);
    const done = await runCli(['tenant', 'remove', C, '--purge-graphs', '--yes'], cliEnv);
    assert.equal(done.code, 0, done.stderr);
    assert.match(done.stdout, /Deleted 2 graph\(s\)/);
    assert.deepEqual(await graphsOn(targetDb, C), []);
    assert.deepEqual(await graphsOn(targetDb, A), aBefore);
    assert.deepEqual(await graphsOn(sharedDb, B), bBefore);
  });

  it('refuses to place a tenant on a target the configuration does not name, registering nothing', async () => {
    const done = await runCli(['tenant', 'add', 'place-nowhere', '--database', 'nowhere'], cliEnv);
    assert.equal(done.code, 1, done.stderr);
    assert.match(done.stderr, /There is no database target "nowhere" in this configuration \(DATABASE_TARGETS names dedicated-1\)/);
    assert.equal((await runCli(['tenant', 'show', 'place-nowhere'], cliEnv)).code, 1);
  });
});

describe('TENANT_ISOLATION=acl with a placed tenant', () => {
  it("runs A's calls as A's own database user on the target, and B's as B's on the shared server", async () => {
    const acl = await gatewayOn(shared.url, { ...targetEnv, TENANT_ISOLATION: 'acl', ACL_USER_SECRET: 'placement-acl-secret-that-is-long-enough-0123' });
    const a = await clientOf('v1 /mcp', A, acl);
    const b = await clientOf('v1 /mcp', B, acl);
    await mustCall(a, 'falkordb_query', { graphName: 'acl-a', query: 'CREATE (:APlaced)' });
    await mustCall(b, 'falkordb_query', { graphName: 'acl-b', query: 'CREATE (:BShared)' });
    assert.ok((await graphsOn(targetDb, A)).includes('acl-a'));
    assert.ok((await graphsOn(sharedDb, B)).includes('acl-b'));
    assert.deepEqual(await graphsOn(sharedDb, A), []);
    assert.ok((await listed(a)).includes('acl-a'));
    assert.ok(!(await listed(a)).includes('acl-b'));
    // The users live where the tenants' graphs are.
    const userOn = async (db: Database, tenant: string) => Array.isArray(await db.sendCommand(['ACL', 'GETUSER', tenantUserName(tenant)]));
    assert.equal(await userOn(targetDb, A), true, "A's user is on the target");
    assert.equal(await userOn(sharedDb, A), false, "A has no user on the shared server");
    assert.equal(await userOn(sharedDb, B), true, "B's user is on the shared server");
    assert.equal(await userOn(targetDb, B), false, 'B has no user on the target');
    assert.equal((await mustCall(a, 'falkordb_health'))['graphCount'], (await graphsOn(targetDb, A)).length);

    // tenant disable / enable switch A's user off and on where it lives.
    const flagsOn = async (db: Database, tenant: string) => {
      const reply = (await db.sendCommand(['ACL', 'GETUSER', tenantUserName(tenant)])) as unknown[];
      return reply[reply.indexOf('flags') + 1];
    };
    const aclCli = { ...cliEnv, TENANT_ISOLATION: 'acl', ACL_USER_SECRET: 'placement-acl-secret-that-is-long-enough-0123' };
    const disabled = await runCli(['tenant', 'disable', A], aclCli);
    assert.equal(disabled.code, 0, disabled.stderr);
    assert.ok((await flagsOn(targetDb, A) as string[]).includes('off'), "A's user on the target is off");
    const enabled = await runCli(['tenant', 'enable', A], aclCli);
    assert.equal(enabled.code, 0, enabled.stderr);
    assert.ok((await flagsOn(targetDb, A) as string[]).includes('on'), "A's user on the target is on again");
    assert.equal(await userOn(sharedDb, A), false, 'and still none on the shared server');
    await sleep(STATE_CACHE_EXPIRY_MS);
    assert.ok((await listed(a)).includes('acl-a'));
  });
});

describe('an instance without the target in its configuration', () => {
  it("fails A's calls with a message that names no server, and never runs them on the shared database", async () => {
    const unaware = await gatewayOn(shared.url, { TENANTS_REQUIRE_REGISTRATION: 'true' });
    const a = await clientOf('v1 /mcp', A, unaware);
    const write = await callTool(a, 'falkordb_query', { graphName: 'never-here', query: 'CREATE (:APlaced)' });
    assert.equal(write.error?.code, 'DATABASE_TARGET_UNKNOWN', write.text);
    assertNamesNoServer(write);
    const list = await callTool(a, 'falkordb_list_graphs');
    assert.equal(list.error?.code, 'DATABASE_TARGET_UNKNOWN', 'not an empty list from the shared server');
    assertNamesNoServer(list);
    const schema = await callTool(a, 'falkordb_graph_schema', { graphName: (await graphsOn(targetDb, A))[0]! });
    assert.equal(schema.ok, false);
    assertNamesNoServer(schema);
    const health = await mustCall(a, 'falkordb_health');
    assert.equal((health['database'] as Record<string, unknown>)['reachable'], false);
    assert.deepEqual(await graphsOn(sharedDb, A), [], 'nothing of A was created on the shared server');
    // B, on the shared database, is served as ever.
    const b = await clientOf('v1 /mcp', B, unaware);
    assert.deepEqual(await listed(b), await graphsOn(sharedDb, B));
  });
});

describe('a placement change, seen by another instance', () => {
  it("sends A's next call to its new database within a second, over /mcp and an open SSE session", async () => {
    const first = gateway;
    const second = await gatewayOn(shared.url, targetEnv);
    // A graph of A's on the shared server, which only a placement there shows.
    await new GraphClient(sharedDb).query({ key: tenantGraphKey(A, 'on-shared'), query: 'CREATE (:APlaced)', readOnly: false, timeoutMs: 5000, maxRows: 10 });
    try {
      const onTarget = await graphsOn(targetDb, A);
      const http = await clientOf('v1 /mcp', A, second);
      const sse = await clientOf('v1 /sse', A, second);
      assert.deepEqual(await listed(http), onTarget);
      assert.deepEqual(await listed(sse), onTarget);

      const switchTo = async (database: string | undefined) => {
        const moveId = `move-${String(database)}-${Date.now()}`;
        await first.state.tenants.beginMove(A, database, moveId, Date.now() + 60_000);
        await first.state.tenants.updateMove(A, moveId, { done: true, database });
      };
      await switchTo(undefined);
      await sleep(STATE_CACHE_EXPIRY_MS);
      assert.deepEqual(await listed(http), ['on-shared']);
      assert.deepEqual(await listed(sse), ['on-shared']);
      assert.equal((await first.state.tenants.get(A))?.database, undefined);

      await switchTo(TARGET);
      await sleep(STATE_CACHE_EXPIRY_MS);
      assert.deepEqual(await listed(http), onTarget);
      assert.deepEqual(await listed(sse), onTarget);
    } finally {
      await sharedDb.sendCommand(['GRAPH.DELETE', tenantGraphKey(A, 'on-shared')]);
    }
  });
});

// Last: the target is stopped and started again.
describe('a target that stops answering', () => {
  it("fails only its tenants' calls, in words that name no server, says degraded on /readyz, and serves them again once it is back", async (t) => {
    const a = await clientOf('v1 /mcp', A);
    const b = await clientOf('v1 /mcp', B);
    await listed(a);
    await target.stop();
    try {
      // A gateway started while the target is down starts all the same.
      const late = await gatewayOn(shared.url, targetEnv);
      const lateA = await clientOf('v1 /mcp', A, late);
      for (const client of [a, lateA]) {
        const failing = performance.now();
        const outcome = await callTool(client, 'falkordb_list_graphs');
        t.diagnostic(`a call of A failed in ${Math.round(performance.now() - failing)} ms`);
        assert.equal(outcome.error?.code, 'DATABASE_UNREACHABLE', outcome.text);
        assertNamesNoServer(outcome);
        const write = await callTool(client, 'falkordb_query', { graphName: 'while-down', query: 'CREATE (:APlaced)' });
        assertNamesNoServer(write);
        const health = await mustCall(client, 'falkordb_health');
        assert.equal((health['database'] as Record<string, unknown>)['reachable'], false);
      }
      assert.deepEqual(await listed(b), await graphsOn(sharedDb, B), 'B is served as ever');
      // Past the retry wait (5 s), the next attempt to reach the target holds neither the calls nor readiness
      // for its connect timeout (FALKORDB_CONNECT_TIMEOUT_MS, 10 s): both answer at once, as between attempts.
      await sleep(5_500);
      const retrying = performance.now();
      const again = await callTool(lateA, 'falkordb_list_graphs');
      assert.equal(again.error?.code, 'DATABASE_UNREACHABLE', again.text);
      assert.equal((await fetch(`${late.url}/readyz`)).status, 200);
      const waited = performance.now() - retrying;
      assert.ok(waited < 5_000, `a call and a readiness probe during an attempt to reach the target took ${Math.round(waited)} ms`);
      for (const g of [gateway, late]) {
        const ready = await fetch(`${g.url}/readyz`);
        assert.equal(ready.status, 200);
        const body = (await ready.json()) as Record<string, unknown>;
        assert.equal(body['status'], 'degraded', JSON.stringify(body));
        assert.deepEqual(body['targets'], { configured: 1, reachable: 0 });
        assert.ok(!JSON.stringify(body).includes(String(target.port)), 'readiness names no target address');
        // With A's token: A's own database, which does not answer.
        const mine = await fetch(`${g.url}/readyz`, { headers: { Authorization: `Bearer ${await signTestToken(A)}` } });
        assert.equal(mine.status, 503);
        const theirs = await fetch(`${g.url}/readyz`, { headers: { Authorization: `Bearer ${await signTestToken(B)}` } });
        assert.equal(theirs.status, 200);
      }

      await target.restart();
      const back = performance.now();
      for (const [name, client] of [['the running gateway', a], ['the gateway started while it was down', lateA]] as const) {
        await waitFor('A served again', async () => ((await callTool(client, 'falkordb_list_graphs')).ok ? true : undefined), 30_000);
        t.diagnostic(`${name} served A again ${Math.round(performance.now() - back)} ms after the target was back`);
        await mustCall(client, 'falkordb_query', { graphName: 'after-outage', query: 'MERGE (:APlaced)' });
      }
      assert.ok((await graphsOn(targetDb, A)).includes('after-outage'));
      assert.deepEqual(await graphsOn(sharedDb, A), []);
      for (const g of [gateway, late]) {
        const body = await waitFor('readiness ready again', async () => {
          const answer = (await (await fetch(`${g.url}/readyz`)).json()) as Record<string, unknown>;
          return answer['status'] === 'ready' ? answer : undefined;
        });
        assert.deepEqual(body['targets'], { configured: 1, reachable: 1 });
      }
    } finally {
      if (!(await targetDb.ping(1000).then(() => true, () => false))) await target.restart().catch(() => undefined);
    }
  });
});
