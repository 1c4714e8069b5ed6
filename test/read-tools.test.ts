// falkordb_read_query and falkordb_explain through a real MCP client, with each
// isolation mode: what they return, what they refuse, and that they never write.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { connectDatabase } from '../src/falkordb/connection.js';
import type { Database } from '../src/falkordb/database.js';
import type { RunningGateway } from '../src/main.js';
import { tenantGraphKey, tenantKeyPrefix } from '../src/tenancy/keys.js';
import { startTestFalkorDB, testLogger, type TestFalkorDB } from './support/falkordb.js';
import { startTestGateway } from './support/gateway.js';
import { callTool, connectClient, mustCall } from './support/mcp.js';
import { signTestToken } from './support/tokens.js';

const MODES: Record<string, Record<string, string>> = {
  prefix: { TENANT_ISOLATION: 'prefix' },
  acl: { TENANT_ISOLATION: 'acl', ACL_USER_SECRET: 'read-tools-suite-acl-user-secret-0123456789' },
};
const LONG_TTL = '600000';

let db: TestFalkorDB;
/** The test's own connection: what it sends bypasses every gateway. */
let direct: Database;
const clients: Client[] = [];
const gateways: RunningGateway[] = [];

before(async () => {
  db = await startTestFalkorDB();
  direct = await connectDatabase({ url: db.url, connectTimeoutMs: 5000, logger: testLogger() });
});

after(async () => {
  await Promise.allSettled(clients.map((c) => c.close()));
  for (const gateway of gateways) await gateway.stop();
  await direct?.close();
  await db?.cleanup();
});

async function gatewayWith(env: Record<string, string>): Promise<RunningGateway> {
  const gateway = await startTestGateway(db.url, { RATE_LIMIT_PER_MINUTE: '0', ...env });
  gateways.push(gateway);
  return gateway;
}

async function clientOf(gateway: RunningGateway, tenant: string, scope = 'read write admin', claims: Record<string, unknown> = {}): Promise<Client> {
  const client = await connectClient('http', gateway.url, await signTestToken(tenant, { scope, claims }));
  clients.push(client);
  return client;
}

/** A query straight to FalkorDB, which no gateway sees. */
async function directQuery(tenant: string, graph: string, query: string): Promise<void> {
  await direct.sendCommand(['GRAPH.QUERY', tenantGraphKey(tenant, graph), query]);
}

async function graphExists(tenant: string, graph: string): Promise<boolean> {
  return Number(await direct.sendCommand(['EXISTS', tenantGraphKey(tenant, graph)])) === 1;
}

async function refusal(client: Client, tool: string, args: Record<string, unknown>): Promise<{ code: string; message: string }> {
  const outcome = await callTool(client, tool, args);
  assert.equal(outcome.ok, false, `${tool} ${JSON.stringify(args)} should be refused, got ${outcome.text}`);
  return outcome.error!;
}

async function count(client: Client, graph: string, label: string): Promise<unknown> {
  const out = await mustCall(client, 'falkordb_read_query', { graphName: graph, query: `MATCH (n:${label}) RETURN count(n) AS n` });
  return (out.rows as Array<{ n: unknown }>)[0]?.n;
}

for (const [mode, isolationEnv] of Object.entries(MODES)) {
  describe(`TENANT_ISOLATION=${mode}`, () => {
    let gateway: RunningGateway;
    const t = (name: string) => `${name}-${mode}`;

    before(async () => {
      gateway = await gatewayWith(isolationEnv);
    });

    describe('falkordb_read_query', () => {
      it('returns rows keyed by column with the shape falkordb_query returns', async () => {
        const client = await clientOf(gateway, t('rq'));
        await mustCall(client, 'falkordb_query', { graphName: 'people', query: "CREATE (:Person {name: 'Ann', age: 42}), (:Person {name: 'Bob', age: 7})" });
        const out = await mustCall(client, 'falkordb_read_query', { graphName: 'people', query: 'MATCH (p:Person) WHERE p.age > $age RETURN p.name AS name ORDER BY name', parameters: { age: 10 } });
        assert.deepEqual(out.columns, ['name']);
        assert.deepEqual(out.rows, [{ name: 'Ann' }]);
        assert.equal(out.rowCount, 1);
        assert.equal(out.truncated, false);
        assert.equal(out.graph, 'people');
        assert.equal(typeof out.executionTimeMs, 'number');
        const same = await mustCall(client, 'falkordb_query', { graphName: 'people', query: 'MATCH (p:Person) WHERE p.age > $age RETURN p.name AS name ORDER BY name', parameters: { age: 10 } });
        assert.deepEqual(Object.keys(out).sort(), Object.keys(same).sort());
      });

      it('refuses a write, naming falkordb_query, and changes nothing', async () => {
        const client = await clientOf(gateway, t('rq-write'));
        await mustCall(client, 'falkordb_query', { graphName: 'g', query: 'CREATE (:Keep)' });
        for (const query of ['CREATE (:Added)', 'MATCH (k:Keep) SET k.x = 1', 'MATCH (k:Keep) DELETE k', 'MERGE (:Added)']) {
          const error = await refusal(client, 'falkordb_read_query', { graphName: 'g', query });
          assert.equal(error.code, 'QUERY_FORBIDDEN', query);
          assert.match(error.message, /falkordb_query/, query);
        }
        assert.equal(await count(client, 'g', 'Added'), 0);
        const kept = await mustCall(client, 'falkordb_read_query', { graphName: 'g', query: 'MATCH (k:Keep) RETURN k.x AS x' });
        assert.deepEqual(kept.rows, [{ x: null }]);
      });

      it('runs with the read scope alone', async () => {
        const tenant = t('rq-reader');
        await directQuery(tenant, 'g', 'CREATE (:Item {v: 1})');
        const reader = await clientOf(gateway, tenant, 'read');
        assert.equal(await count(reader, 'g', 'Item'), 1);
      });

      it('says a missing graph does not exist, and never creates it', async () => {
        const client = await clientOf(gateway, t('rq-missing'));
        const error = await refusal(client, 'falkordb_read_query', { graphName: 'nothing', query: 'MATCH (n) RETURN n' });
        assert.equal(error.code, 'GRAPH_NOT_FOUND');
        assert.match(error.message, /Graph "nothing" does not exist/);
        const write = await refusal(client, 'falkordb_read_query', { graphName: 'nothing', query: 'CREATE (:A)' });
        assert.equal(write.code, 'GRAPH_NOT_FOUND');
        assert.match(write.message, /falkordb_query creates a new one/);
        assert.equal(await graphExists(t('rq-missing'), 'nothing'), false);
      });
    });

    describe('falkordb_explain', () => {
      it('returns the plan of a read, says it does not write, and runs nothing', async () => {
        const client = await clientOf(gateway, t('ex'));
        await mustCall(client, 'falkordb_query', { graphName: 'g', query: 'CREATE (:A {x: 1})' });
        const out = await mustCall(client, 'falkordb_explain', { graphName: 'g', query: 'MATCH (n:A) WHERE n.x = $x RETURN n', parameters: { x: 1 } });
        assert.equal(out.graph, 'g');
        assert.equal(out.writes, false);
        const plan = out.plan as string[];
        assert.equal(plan[0], 'Results');
        assert.ok(plan.some((line) => /Node By Label Scan \| \(n:A\)/.test(line)), plan.join('\n'));
      });

      it('says a write would write, without running it', async () => {
        const client = await clientOf(gateway, t('ex-write'));
        await mustCall(client, 'falkordb_query', { graphName: 'g', query: 'CREATE (:A {x: 1})' });
        for (const query of ['CREATE (:B)', 'MATCH (n:A) SET n.x = 2', 'MATCH (n:A) DETACH DELETE n', 'MERGE (:B {x: 1})', 'MATCH (n:A) REMOVE n.x', 'CREATE INDEX FOR (n:A) ON (n.x)']) {
          const out = await mustCall(client, 'falkordb_explain', { graphName: 'g', query });
          assert.equal(out.writes, true, query);
        }
        assert.equal(await count(client, 'g', 'B'), 0);
        const kept = await mustCall(client, 'falkordb_read_query', { graphName: 'g', query: 'MATCH (n:A) RETURN n.x AS x' });
        assert.deepEqual(kept.rows, [{ x: 1 }]);
        const schema = await mustCall(client, 'falkordb_graph_schema', { graphName: 'g' });
        assert.deepEqual(schema.indexes, [], 'the index was not created');
      });

      it('refuses a query that does not parse with its place', async () => {
        const client = await clientOf(gateway, t('ex-syntax'));
        await mustCall(client, 'falkordb_query', { graphName: 'g', query: 'CREATE (:A)' });
        const error = await refusal(client, 'falkordb_explain', { graphName: 'g', query: 'MATCH (n RETURN n' });
        assert.equal(error.code, 'QUERY_FAILED');
        assert.match(error.message, /Invalid input .* at position 9 \(line 1, column 10\)/);
      });

      it('runs with the read scope alone, and says a missing graph does not exist without creating it', async () => {
        const tenant = t('ex-reader');
        await directQuery(tenant, 'g', 'CREATE (:A)');
        const reader = await clientOf(gateway, tenant, 'read');
        assert.equal((await mustCall(reader, 'falkordb_explain', { graphName: 'g', query: 'CREATE (:B)' })).writes, true);
        const error = await refusal(reader, 'falkordb_explain', { graphName: 'nothing', query: 'CREATE (:B)' });
        assert.equal(error.code, 'GRAPH_NOT_FOUND');
        assert.match(error.message, /Graph "nothing" does not exist/);
        assert.equal(await graphExists(tenant, 'nothing'), false);
      });
    });

    describe('both tools', () => {
      for (const tool of ['falkordb_read_query', 'falkordb_explain']) {
        it(`${tool}: keeps to the caller's graphs, and never names another tenant's key`, async () => {
          const owner = t(`own-${tool}`);
          await directQuery(owner, 'secret', "CREATE (:Secret {code: 'x42'})");
          const other = await clientOf(gateway, t(`other-${tool}`));
          const key = tenantGraphKey(owner, 'secret');
          const same = await refusal(other, tool, { graphName: 'secret', query: 'MATCH (s:Secret) RETURN s.code' });
          assert.equal(same.code, 'GRAPH_NOT_FOUND');
          assert.ok(!same.message.includes(tenantKeyPrefix(owner)), same.message);
          // Typing the other tenant's key only names a graph of the caller's own, which does not exist.
          const named = await refusal(other, tool, { graphName: key, query: 'MATCH (s:Secret) RETURN s.code' });
          assert.ok(['GRAPH_NOT_FOUND', 'GRAPH_NAME_INVALID'].includes(named.code), named.code);
          for (const error of [same, named]) assert.ok(!error.message.includes('x42'), error.message);
        });

        it(`${tool}: follows the graph rules of the token`, async () => {
          const tenant = t(`rules-${tool}`);
          await directQuery(tenant, 'reports_q1', 'CREATE (:A)');
          await directQuery(tenant, 'private', 'CREATE (:A)');
          const narrow = await clientOf(gateway, tenant, 'read', { graphs: ['reports_*'] });
          await mustCall(narrow, tool, { graphName: 'reports_q1', query: 'MATCH (n) RETURN count(n) AS n' });
          const error = await refusal(narrow, tool, { graphName: 'private', query: 'MATCH (n) RETURN count(n) AS n' });
          assert.equal(error.code, 'GRAPH_FORBIDDEN');
        });

        it(`${tool}: passes the guards of a query`, async () => {
          const tenant = t(`guards-${tool}`);
          await directQuery(tenant, 'g', 'CREATE (:A)');
          const client = await clientOf(gateway, tenant, 'read');
          assert.equal((await refusal(client, tool, { graphName: 'g', query: `RETURN '${'x'.repeat(100_001)}'` })).code, 'QUERY_TOO_LONG');
          let deep: unknown = 1;
          for (let i = 0; i < 40; i++) deep = [deep];
          assert.equal((await refusal(client, tool, { graphName: 'g', query: 'RETURN $p', parameters: { p: deep } })).code, 'PARAMETERS_INVALID');
          assert.equal((await refusal(client, tool, { graphName: 'g', query: "LOAD CSV FROM 'file:///etc/passwd' AS r RETURN r" })).code, 'QUERY_FORBIDDEN');
          assert.equal((await refusal(client, tool, { graphName: 'bad/name', query: 'RETURN 1' })).code, 'GRAPH_NAME_INVALID');
        });
      }
    });
  });
}

describe('the query result cache', () => {
  let gateway: RunningGateway;

  before(async () => {
    gateway = await gatewayWith({ QUERY_CACHE_TTL_MS: LONG_TTL, SCHEMA_CACHE_TTL_MS: LONG_TTL });
  });

  it('serves falkordb_read_query the results falkordb_query read read-only, and the other way round', async () => {
    const tenant = 'cache-shared';
    const client = await clientOf(gateway, tenant);
    await mustCall(client, 'falkordb_query', { graphName: 'g', query: 'CREATE (:A)' });
    const query = 'MATCH (n:A) RETURN count(n) AS n';
    assert.deepEqual((await mustCall(client, 'falkordb_query', { graphName: 'g', query, readOnly: true })).rows, [{ n: 1 }]);
    await directQuery(tenant, 'g', 'CREATE (:A)');
    assert.deepEqual((await mustCall(client, 'falkordb_read_query', { graphName: 'g', query })).rows, [{ n: 1 }], 'the entry falkordb_query stored');
    await mustCall(client, 'falkordb_query', { graphName: 'g', query: 'CREATE (:A)' });
    assert.deepEqual((await mustCall(client, 'falkordb_read_query', { graphName: 'g', query })).rows, [{ n: 3 }], 'a write through the gateway drops it');
    await directQuery(tenant, 'g', 'CREATE (:A)');
    assert.deepEqual((await mustCall(client, 'falkordb_query', { graphName: 'g', query, readOnly: true })).rows, [{ n: 3 }], 'the entry falkordb_read_query stored');
  });

  it('never answers falkordb_explain from it, nor stores a plan in it', async () => {
    const tenant = 'cache-explain';
    const client = await clientOf(gateway, tenant);
    await mustCall(client, 'falkordb_query', { graphName: 'g', query: 'CREATE (:A)' });
    const query = 'MATCH (n:A) RETURN count(n) AS n';
    assert.deepEqual((await mustCall(client, 'falkordb_read_query', { graphName: 'g', query })).rows, [{ n: 1 }]);
    const plan = await mustCall(client, 'falkordb_explain', { graphName: 'g', query });
    assert.equal(plan.rows, undefined);
    assert.ok((plan.plan as string[]).length > 0);
    assert.deepEqual((await mustCall(client, 'falkordb_read_query', { graphName: 'g', query })).rows, [{ n: 1 }], 'the cached result is still the rows');
    // A plan of a graph that is gone behind the gateway's back is refused: no cache stands in between.
    await direct.sendCommand(['GRAPH.DELETE', tenantGraphKey(tenant, 'g')]);
    assert.equal((await refusal(client, 'falkordb_explain', { graphName: 'g', query })).code, 'GRAPH_NOT_FOUND');
  });
});
