// TENANT_ISOLATION=acl against a real FalkorDB: one database user per tenant,
// limited to its key pattern, so the database itself refuses another tenant's key.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { loadConfig } from '../src/config/index.js';
import { startGateway } from '../src/main.js';
import { createLogger } from '../src/logger.js';
import { tenantEndpoint } from '../src/falkordb/acl.js';
import { createTenantConnections, type TenantConnections } from '../src/falkordb/acl-pool.js';
import { singleNode, TENANT_USER_COMMANDS, TenantUsers, tenantUserName, tenantUserPassword } from '../src/falkordb/acl-users.js';
import { connectDatabase } from '../src/falkordb/connection.js';
import type { Database, RespValue } from '../src/falkordb/database.js';
import type { GraphClient } from '../src/falkordb/graphs.js';
import type { RunningGateway } from '../src/main.js';
import { TEST_SECRET } from './support/tokens.js';
import { GATEWAY_STATE_PREFIX, tenantGraphKey } from '../src/tenancy/keys.js';
import { runCli } from './support/cli.js';
import { startTestFalkorDB, testLogger, type TestFalkorDB } from './support/falkordb.js';
import { captureLog, startTestGateway } from './support/gateway.js';
import { callTool, connectClient, mustCall } from './support/mcp.js';
import { signTestToken } from './support/tokens.js';

const SECRET = 'acl-test-user-secret-that-is-long-enough-0123456789';
const ACL_ENV = { TENANT_ISOLATION: 'acl', ACL_USER_SECRET: SECRET };

let server: TestFalkorDB;
let admin: Database;
const clients: Client[] = [];
const gateways: RunningGateway[] = [];
const pools: TenantConnections[] = [];

before(async () => {
  server = await startTestFalkorDB();
  admin = await connectDatabase({ url: server.url, connectTimeoutMs: 5000, logger: testLogger() });
});

after(async () => {
  await Promise.allSettled(clients.map((c) => c.close()));
  await Promise.allSettled(pools.map((p) => p.close()));
  for (const gateway of gateways) await gateway.stop();
  await admin?.close();
  await server?.cleanup();
});

const endpoint = () => `redis://127.0.0.1:${server.port}`;

function usersOn(db: Database = admin, secret = SECRET): TenantUsers {
  return new TenantUsers({ secret, nodes: () => singleNode(db), logger: testLogger() });
}

function pool(max: number, perTenant = 2, users = usersOn()): TenantConnections {
  const connections = createTenantConnections({ endpoint: endpoint(), users, maxConnections: max, maxPerTenant: perTenant, moduleVersion: 'test', logger: testLogger() });
  pools.push(connections);
  return connections;
}

async function gatewayWith(env: Record<string, string> = {}, logTo?: ReturnType<typeof captureLog>): Promise<RunningGateway> {
  const gateway = await startTestGateway(server.url, { ...ACL_ENV, ...env }, logTo?.stream);
  gateways.push(gateway);
  return gateway;
}

async function client(gateway: RunningGateway, tenant: string, kind: 'http' | 'sse-header' = 'http'): Promise<Client> {
  const c = await connectClient(kind, gateway.url, await signTestToken(tenant));
  clients.push(c);
  return c;
}

/** ACL GETUSER as a field → value map; undefined when the user does not exist. */
async function getUser(name: string): Promise<Record<string, RespValue> | undefined> {
  const reply = await admin.sendCommand(['ACL', 'GETUSER', name]);
  if (!Array.isArray(reply)) return undefined;
  const fields: Record<string, RespValue> = {};
  for (let i = 0; i + 1 < reply.length; i += 2) fields[String(reply[i])] = reply[i + 1]!;
  return fields;
}

/** Connections to the server logged in as users whose name starts with `prefix`, from CLIENT LIST. */
async function clientsOfUsers(prefix: string): Promise<number> {
  const list = String(await admin.sendCommand(['CLIENT', 'LIST']));
  return list.split('\n').filter((line) => line.includes(` user=${prefix}`)).length;
}

async function eventually(check: () => Promise<boolean>, what: string): Promise<void> {
  for (let i = 0; i < 100; i++) {
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  assert.fail(`never became true: ${what}`);
}

const query = (key: string, text: string, readOnly = false) => ({ key, query: text, readOnly, timeoutMs: 5000, maxRows: 1000 });

describe('configuration', () => {
  it('needs ACL_USER_SECRET with TENANT_ISOLATION=acl, and a long one', () => {
    const base = { AUTH_JWT_SECRET: 'x'.repeat(32), TENANT_ISOLATION: 'acl' };
    assert.throws(() => loadConfig(base), (e: Error & { code?: string }) => e.code === 'CONFIG_INVALID' && /ACL_USER_SECRET.*is required with TENANT_ISOLATION=acl/.test(e.message));
    assert.throws(() => loadConfig({ ...base, ACL_USER_SECRET: 'short' }), (e: Error) => /ACL_USER_SECRET \(value hidden\) must be at least 32 bytes/.test(e.message) && !e.message.includes('short'));
    assert.throws(() => loadConfig({ ...base, TENANT_ISOLATION: 'users' }), /TENANT_ISOLATION.*must be prefix or acl/);
    assert.equal(loadConfig({ AUTH_JWT_SECRET: 'x'.repeat(32) }).isolation.mode, 'prefix');
    assert.equal(loadConfig({ ...base, ACL_USER_SECRET: SECRET, ACL_POOL_MAX: '7' }).isolation.aclPoolMax, 7);
  });

  it("logs tenants in to FALKORDB_URL's server without the gateway's own credentials", () => {
    const base = { AUTH_JWT_SECRET: 'x'.repeat(32), ...ACL_ENV };
    assert.equal(tenantEndpoint(loadConfig({ ...base, FALKORDB_URL: 'redis://gateway:hunter2@db.internal:6380' })), 'redis://db.internal:6380');
    assert.equal(tenantEndpoint(loadConfig({ ...base, FALKORDB_URL: 'rediss://:hunter2@db.internal:6380' })), 'rediss://db.internal:6380');
    assert.equal(tenantEndpoint(loadConfig({ ...base, FALKORDB_URL: '/run/falkordb.sock' })), '/run/falkordb.sock');
  });

  it('refuses sentinels in acl mode, naming the variable, and takes a cluster', () => {
    const base = { AUTH_JWT_SECRET: 'x'.repeat(32), ...ACL_ENV };
    assert.equal(tenantEndpoint(loadConfig({ ...base, FALKORDB_CLUSTER_URLS: 'redis://:hunter2@10.0.0.1:6379,redis://:hunter2@10.0.0.2:6379' })), 'redis://10.0.0.1:6379');
    assert.throws(() => tenantEndpoint(loadConfig({ ...base, FALKORDB_SENTINELS: '10.0.0.1:26379', FALKORDB_SENTINEL_MASTER: 'falkordb' })), (e: Error & { code?: string }) => e.code === 'CONFIG_INVALID' && /FALKORDB_SENTINELS/.test(e.message));
  });
});

describe("the tenant's database user", () => {
  it('is created on first use with exactly the documented rights', async () => {
    const gateway = await gatewayWith();
    await mustCall(await client(gateway, 'rights'), 'falkordb_query', { graphName: 'g', query: 'CREATE (:N)' });
    const user = await getUser('fmg-t-rights');
    assert.ok(user, 'the user exists');
    assert.deepEqual(user.flags, ['on', 'sanitize-payload']);
    assert.equal(user.keys, '~rights_*');
    assert.equal(user.channels, '');
    assert.equal(user.commands, `-@all ${TENANT_USER_COMMANDS.map((c) => `+${c}`).join(' ')}`);
    assert.equal(user.commands, '-@all +graph.query +graph.ro_query +graph.explain +graph.constraint +graph.delete +ping');
    assert.deepEqual(user.selectors, []);
    const password = tenantUserPassword(SECRET, 'fmg-t-rights');
    assert.deepEqual(user.passwords, [createHash('sha256').update(password).digest('hex')]);
  });

  it('is named after the encoded tenant id, so tenants a_b and a get different users', () => {
    assert.equal(tenantUserName('acme'), 'fmg-t-acme');
    assert.equal(tenantUserName('a_b'), 'fmg-t-a%5Fb');
    assert.notEqual(tenantUserName('a_b'), tenantUserName('a'));
    assert.notEqual(tenantUserPassword(SECRET, 'fmg-t-a'), tenantUserPassword('another-secret-of-at-least-32-bytes!!', 'fmg-t-a'));
  });

  it('runs tool calls on connections logged in as that user', async () => {
    const gateway = await gatewayWith();
    const c = await client(gateway, 'whoami');
    await mustCall(c, 'falkordb_query', { graphName: 'g', query: 'CREATE (:N)' });
    const list = String(await admin.sendCommand(['CLIENT', 'LIST']));
    assert.match(list, / user=fmg-t-whoami /);
  });

  it('never writes the derived password to the logs', async () => {
    const log = captureLog();
    const gateway = await gatewayWith({}, log);
    await mustCall(await client(gateway, 'logged'), 'falkordb_query', { graphName: 'g', query: 'CREATE (:N)' });
    await admin.sendCommand(['ACL', 'DELUSER', 'fmg-t-logged']);
    await mustCall(await client(gateway, 'logged'), 'falkordb_query', { graphName: 'g', query: 'RETURN 1' });
    await gateway.stop();
    assert.match(log.text(), /fmg-t-logged/);
    assert.ok(!log.text().includes(tenantUserPassword(SECRET, 'fmg-t-logged')));
    assert.ok(!log.text().includes(SECRET));
  });
});

describe('embedded FalkorDB', () => {
  it('logs tenants in to the embedded server the gateway started', async () => {
    const dataDir = await mkdtemp(path.join(os.tmpdir(), 'acl-embedded-'));
    const config = loadConfig({ FALKORDB_DATA_DIR: dataDir, AUTH_JWT_SECRET: TEST_SECRET, HOST: '127.0.0.1', PORT: '0', METRICS_PORT: 'off', LOG_LEVEL: 'silent', ...ACL_ENV });
    const gateway = await startGateway({ config, logger: createLogger('silent'), allowInstall: false });
    try {
      const c = await client(gateway, 'embedded');
      await mustCall(c, 'falkordb_query', { graphName: 'g', query: 'CREATE (:N)' });
      const users = await gateway.database.db.sendCommand(['ACL', 'USERS']);
      assert.ok(Array.isArray(users) && users.includes('fmg-t-embedded'), String(users));
      const list = String(await gateway.database.db.sendCommand(['CLIENT', 'LIST']));
      assert.match(list, / user=fmg-t-embedded /);
    } finally {
      await gateway.stop();
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});

describe('the database refuses what the key function would never build', () => {
  it("answers NOPERM when the low-level query path gets another tenant's key", async () => {
    const connections = pool(4);
    await connections.use('intruder', (graphs) => graphs.query(query(tenantGraphKey('intruder', 'own'), 'CREATE (:Mine)')));
    await admin.sendCommand(['GRAPH.QUERY', tenantGraphKey('victim', 'secrets'), "CREATE (:Secret {code: 42})"]);
    // Bypass the key function: hand the tenant's connection a key of another tenant.
    const attempts: Array<(graphs: GraphClient) => Promise<unknown>> = [
      (graphs: GraphClient) => graphs.query(query(tenantGraphKey('victim', 'secrets'), 'MATCH (n) RETURN n.code', true)),
      (graphs: GraphClient) => graphs.query(query(tenantGraphKey('victim', 'secrets'), 'MATCH (n) DELETE n')),
      (graphs: GraphClient) => graphs.deleteGraph(tenantGraphKey('victim', 'secrets')),
      (graphs: GraphClient) => graphs.schema(tenantGraphKey('victim', 'secrets'), 5000),
      (graphs: GraphClient) => graphs.createConstraint(tenantGraphKey('victim', 'secrets'), { kind: 'mandatory', entity: 'node', label: 'Secret', properties: ['code'] }, 5000),
      (graphs: GraphClient) => graphs.dropConstraint(tenantGraphKey('victim', 'secrets'), { kind: 'mandatory', entity: 'node', label: 'Secret', properties: ['code'] }, 5000),
    ];
    for (const attempt of attempts) {
      await assert.rejects(connections.use('intruder', attempt), (e: Error & { code?: string }) => e.code === 'DATABASE_ACCESS_DENIED' && !e.message.includes('victim'));
    }
    const count = await admin.sendCommand(['GRAPH.RO_QUERY', tenantGraphKey('victim', 'secrets'), 'MATCH (n:Secret) RETURN count(n)']);
    assert.deepEqual((count as RespValue[])[1], [[1]], "the victim's graph is untouched");
  });

  it('answers NOPERM to the raw commands a tenant user has no right to', async () => {
    const connections = pool(4);
    const raw = (args: string[]) => connections.use('raw', (graphs) => graphs.database.sendCommand(args));
    assert.equal(await raw(['PING']), 'PONG');
    await admin.sendCommand(['SET', `${GATEWAY_STATE_PREFIX}acl-test`, 'state']);
    for (const args of [['GET', `${GATEWAY_STATE_PREFIX}acl-test`], ['GRAPH.QUERY', `${GATEWAY_STATE_PREFIX}x`, 'RETURN 1'], ['GRAPH.LIST'], ['SCAN', '0'], ['KEYS', '*'], ['ACL', 'WHOAMI'], ['CONFIG', 'GET', '*'], ['GET', 'raw_g'], ['FLUSHALL'], ['MODULE', 'LIST']]) {
      await assert.rejects(raw(args), { code: 'DATABASE_ACCESS_DENIED' }, args.join(' '));
    }
  });

  it('keeps tenant a out of tenant a_b, down to the database', async () => {
    const connections = pool(4);
    await connections.use('a_b', (graphs) => graphs.query(query(tenantGraphKey('a_b', 'c'), "CREATE (:N {who: 'a_b'})")));
    await connections.use('a', (graphs) => graphs.query(query(tenantGraphKey('a', 'b_c'), "CREATE (:N {who: 'a'})")));
    await assert.rejects(connections.use('a', (graphs) => graphs.query(query(tenantGraphKey('a_b', 'c'), 'MATCH (n) RETURN n.who', true))), { code: 'DATABASE_ACCESS_DENIED' });
    await assert.rejects(connections.use('a_b', (graphs) => graphs.query(query(tenantGraphKey('a', 'b_c'), 'MATCH (n) RETURN n.who', true))), { code: 'DATABASE_ACCESS_DENIED' });
    const own = await connections.use('a', (graphs) => graphs.query(query(tenantGraphKey('a', 'b_c'), 'MATCH (n) RETURN n.who AS who', true)));
    assert.deepEqual(own.rows, [{ who: 'a' }]);
  });
});

describe('disable, enable and remove', () => {
  it("ends a disabled tenant's open SSE session on its next call, even when only the database knows", async () => {
    const gateway = await gatewayWith();
    const session = await client(gateway, 'sse-off', 'sse-header');
    await mustCall(session, 'falkordb_query', { graphName: 'g', query: 'CREATE (:N)' });
    // Turned off in the database only: the registry still says enabled, so this is the second layer alone.
    const closed = await usersOn().disable('sse-off');
    assert.ok(closed >= 1, 'the open connection of the user was closed');
    const refused = await callTool(session, 'falkordb_query', { graphName: 'g', query: 'MATCH (n) RETURN count(n) AS c' });
    assert.equal(refused.ok, false);
    assert.equal(refused.error?.code, 'TENANT_DISABLED');
    assert.match(refused.error?.message ?? '', /disabled in the database/);
    await usersOn().enable('sse-off');
    assert.deepEqual((await mustCall(session, 'falkordb_query', { graphName: 'g', query: 'MATCH (n) RETURN count(n) AS c' })).rows, [{ c: 1 }]);
  });

  it('follows `tenant disable`, `tenant enable` and `tenant remove` in acl mode', async () => {
    const env = { FALKORDB_URL: server.url, AUTH_JWT_SECRET: 'x'.repeat(32), LOG_LEVEL: 'silent', ...ACL_ENV };
    const gateway = await gatewayWith({ TENANTS_REQUIRE_REGISTRATION: 'true' });
    assert.equal((await runCli(['tenant', 'add', 'cli-acl'], env)).code, 0);
    await mustCall(await client(gateway, 'cli-acl'), 'falkordb_query', { graphName: 'g', query: 'CREATE (:N)' });
    assert.equal(await clientsOfUsers('fmg-t-cli-acl '), 1);

    const disabled = await runCli(['tenant', 'disable', 'cli-acl'], env);
    assert.equal(disabled.code, 0, disabled.stderr);
    const closed = /database user is off; (\d+) open connection\(s\) of it were closed/.exec(disabled.stdout);
    assert.ok(closed !== null && Number(closed[1]) >= 1, disabled.stdout);
    assert.deepEqual((await getUser('fmg-t-cli-acl'))?.flags, ['off', 'sanitize-payload']);
    assert.equal(await clientsOfUsers('fmg-t-cli-acl '), 0);

    const enabled = await runCli(['tenant', 'enable', 'cli-acl'], env);
    assert.match(enabled.stdout, /database user is on again/);
    assert.deepEqual((await getUser('fmg-t-cli-acl'))?.flags, ['on', 'sanitize-payload']);
    const again = await client(gateway, 'cli-acl');
    await eventually(async () => (await callTool(again, 'falkordb_query', { graphName: 'g', query: 'RETURN 1' })).ok, 'the enabled tenant is served again');

    const removed = await runCli(['tenant', 'remove', 'cli-acl', '--yes'], env);
    assert.equal(removed.code, 0, removed.stderr);
    assert.match(removed.stdout, /database user was deleted/);
    assert.equal(await getUser('fmg-t-cli-acl'), undefined);
  });

  it('leaves the database users alone in prefix mode', async () => {
    const env = { FALKORDB_URL: server.url, AUTH_JWT_SECRET: 'x'.repeat(32), LOG_LEVEL: 'silent' };
    await runCli(['tenant', 'add', 'cli-prefix'], env);
    const disabled = await runCli(['tenant', 'disable', 'cli-prefix'], env);
    assert.equal(disabled.code, 0, disabled.stderr);
    assert.doesNotMatch(disabled.stdout, /database user/);
    assert.equal(await getUser('fmg-t-cli-prefix'), undefined);
  });
});

describe('provisioning', () => {
  it('recreates a user the server lost (restart without an ACL file) on the next call', async () => {
    const gateway = await gatewayWith();
    const c = await client(gateway, 'lost');
    await mustCall(c, 'falkordb_query', { graphName: 'g', query: 'CREATE (:N)' });
    await admin.sendCommand(['ACL', 'DELUSER', 'fmg-t-lost']);
    assert.deepEqual((await mustCall(c, 'falkordb_query', { graphName: 'g', query: 'MATCH (n) RETURN count(n) AS c' })).rows, [{ c: 1 }]);
    assert.deepEqual((await getUser('fmg-t-lost'))?.flags, ['on', 'sanitize-payload']);
  });

  it('takes over a user left with a password from an earlier secret', async () => {
    await usersOn(admin, 'an-earlier-secret-that-was-rotated-away-0123').enable('rotated');
    const connections = pool(2);
    const ask = () => connections.use('rotated', (graphs) => graphs.query(query(tenantGraphKey('rotated', 'g'), 'RETURN 7 AS x')));
    assert.deepEqual((await ask()).rows, [{ x: 7 }]);
    // Changed behind the pool's back after its first use, with the connections cut: the next login is refused, then repaired.
    await usersOn(admin, 'an-earlier-secret-that-was-rotated-away-0123').enable('rotated');
    await admin.sendCommand(['CLIENT', 'KILL', 'USER', 'fmg-t-rotated']);
    await eventually(async () => (await ask().then(() => true, () => false)), 'a call after the password changed');
    assert.deepEqual((await ask()).rows, [{ x: 7 }]);
  });

  it('gives concurrent first calls of several instances one consistent user', async () => {
    const instances = [usersOn(), usersOn(), usersOn()];
    const pools3 = instances.map((users) => pool(4, 2, users));
    const results = await Promise.all(pools3.flatMap((p, i) => [0, 1, 2].map((j) => p.use('racer', (graphs) => graphs.query(query(tenantGraphKey('racer', 'g'), `CREATE (:N {i: ${i * 3 + j}})`))))));
    assert.equal(results.length, 9);
    const count = await pools3[0]!.use('racer', (graphs) => graphs.query(query(tenantGraphKey('racer', 'g'), 'MATCH (n:N) RETURN count(n) AS c', true)));
    assert.deepEqual(count.rows, [{ c: 9 }]);
    assert.deepEqual((await getUser('fmg-t-racer'))?.flags, ['on', 'sanitize-payload']);
  });

  it('does not turn back on a user the operator turned off', async () => {
    await usersOn().disable('kept-off');
    const fresh = pool(2);
    await assert.rejects(fresh.use('kept-off', (graphs) => graphs.query(query(tenantGraphKey('kept-off', 'g'), 'RETURN 1', true))), { code: 'TENANT_DISABLED' });
    assert.deepEqual((await getUser('fmg-t-kept-off'))?.flags, ['off', 'sanitize-payload']);
  });
});

describe('the pool of tenant connections', () => {
  it('stays bounded and reconnects evicted tenants under three times more tenants than its size, with concurrent calls', async () => {
    const max = 3;
    const connections = pool(max, 2);
    const tenants = Array.from({ length: max * 3 }, (_, i) => `pooled-${i}`);
    for (let round = 0; round < 3; round++) {
      const calls = tenants.flatMap((tenant) =>
        [0, 1, 2].map((n) => connections.use(tenant, (graphs) => graphs.query(query(tenantGraphKey(tenant, 'g'), `CREATE (:N {tenant: '${tenant}', round: ${round}, n: ${n}})`)))),
      );
      await Promise.all(calls);
      await eventually(async () => connections.openConnections <= max && (await clientsOfUsers('fmg-t-pooled-')) <= max, `at most ${max} tenant connections once calls are done`);
    }
    for (const tenant of tenants) {
      const reply = await connections.use(tenant, (graphs) => graphs.query(query(tenantGraphKey(tenant, 'g'), 'MATCH (n:N) RETURN count(n) AS c, collect(DISTINCT n.tenant) AS who', true)));
      assert.deepEqual(reply.rows, [{ c: 9, who: [tenant] }], tenant);
    }
  });

  it('serves concurrent calls of three times more tenants than ACL_POOL_MAX through the gateway', async () => {
    const gateway = await gatewayWith({ ACL_POOL_MAX: '2' });
    const tenants = Array.from({ length: 6 }, (_, i) => `gw-pooled-${i}`);
    const callers = await Promise.all(tenants.map((tenant) => client(gateway, tenant)));
    for (let round = 0; round < 2; round++) {
      await Promise.all(callers.flatMap((c, i) => [0, 1].map((n) => mustCall(c, 'falkordb_query', { graphName: 'g', query: `CREATE (:N {tenant: '${tenants[i]}', n: ${round * 2 + n}})` }))));
    }
    const counts = await Promise.all(callers.map((c) => mustCall(c, 'falkordb_query', { graphName: 'g', query: 'MATCH (n:N) RETURN count(n) AS c, collect(DISTINCT n.tenant) AS who' })));
    assert.deepEqual(counts.map((r) => r.rows), tenants.map((tenant) => [{ c: 4, who: [tenant] }]));
    await eventually(async () => (await clientsOfUsers('fmg-t-gw-pooled-')) <= 2, 'at most ACL_POOL_MAX tenant connections once calls are done');
  });

  it('lets work in flight on an evicted connection finish, then closes it', async () => {
    const connections = pool(1, 1);
    const key = tenantGraphKey('slow', 'g');
    let resume!: () => void;
    const paused = new Promise<void>((resolve) => (resume = resolve));
    let firstDone!: () => void;
    const started = new Promise<void>((resolve) => (firstDone = resolve));
    const work = connections.use('slow', async (graphs) => {
      await graphs.query(query(key, 'CREATE (:N)'));
      firstDone();
      await paused;
      return graphs.query(query(key, 'MATCH (n:N) RETURN count(n) AS c', true));
    });
    await started;
    // Another tenant's call evicts `slow` (the pool holds one connection) between its two queries.
    await connections.use('evictor', (graphs) => graphs.query(query(tenantGraphKey('evictor', 'g'), 'RETURN 1 AS one')));
    assert.equal(connections.openConnections, 2, "the evicted tenant's connection stays open while its work is in flight");
    resume();
    assert.deepEqual((await work).rows, [{ c: 1 }]);
    await eventually(async () => connections.openConnections <= 1, 'the evicted connection closed once idle');
    assert.deepEqual((await connections.use('slow', (graphs) => graphs.query(query(key, 'MATCH (n:N) RETURN count(n) AS c', true)))).rows, [{ c: 1 }]);
  });
});

describe('start-up check of the gateway\'s own user', () => {
  it('names ACL DELUSER when the gateway user may not delete users', async () => {
    await admin.sendCommand(['ACL', 'SETUSER', 'limited-admin', 'on', '>limited-pw', '~*', '+@all', '-acl|deluser']);
    await assert.rejects(
      startTestGateway(`redis://limited-admin:limited-pw@127.0.0.1:${server.port}`, ACL_ENV),
      (e: Error & { code?: string }) => e.code === 'DATABASE_PERMISSION_MISSING' && /"limited-admin"/.test(e.message) && /'acl\|deluser'/.test(e.message) && /\+acl\|deluser/.test(e.message) && !e.message.includes('limited-pw'),
    );
  });

  it('names the gateway state keys when the gateway user cannot reach them', async () => {
    await admin.sendCommand(['ACL', 'SETUSER', 'no-state-admin', 'on', '>no-state-pw', '~*_*', '+@all']);
    await assert.rejects(
      startTestGateway(`redis://no-state-admin:no-state-pw@127.0.0.1:${server.port}`, ACL_ENV),
      (e: Error & { code?: string }) => e.code === 'DATABASE_PERMISSION_MISSING' && /gw:/.test(e.message),
    );
  });

  it('names ACL DRYRUN when even the check cannot run', async () => {
    await admin.sendCommand(['ACL', 'SETUSER', 'no-acl-admin', 'on', '>no-acl-pw', '~*', '+@all', '-acl', '+acl|whoami']);
    await assert.rejects(startTestGateway(`redis://no-acl-admin:no-acl-pw@127.0.0.1:${server.port}`, ACL_ENV), (e: Error & { code?: string }) => e.code === 'DATABASE_PERMISSION_MISSING' && /acl\|dryrun/.test(e.message));
  });

  it('starts with a gateway user of its own that has the rights', async () => {
    await admin.sendCommand(['ACL', 'SETUSER', 'enough-admin', 'on', '>enough-pw', '~*', '+@all']);
    const gateway = await startTestGateway(`redis://enough-admin:enough-pw@127.0.0.1:${server.port}`, ACL_ENV);
    gateways.push(gateway);
    await mustCall(await client(gateway, 'enough'), 'falkordb_query', { graphName: 'g', query: 'CREATE (:N)' });
  });
});
