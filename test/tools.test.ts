// What each tool returns and refuses, through a real MCP client over /mcp.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import type { RunningGateway } from '../src/main.js';
import { startTestFalkorDB, type TestFalkorDB } from './support/falkordb.js';
import { startTestGateway } from './support/gateway.js';
import { callTool, connectClient, mustCall } from './support/mcp.js';
import { signTestToken } from './support/tokens.js';

let db: TestFalkorDB;
let gateway: RunningGateway;
let limited: RunningGateway;
let client: Client;
const clients: Client[] = [];

async function clientOf(gw: RunningGateway, tenant: string, scope = 'read write admin'): Promise<Client> {
  const c = await connectClient('http', gw.url, await signTestToken(tenant, { scope }));
  clients.push(c);
  return c;
}

before(async () => {
  db = await startTestFalkorDB();
  gateway = await startTestGateway(db.url);
  limited = await startTestGateway(db.url, { MAX_ROWS: '3', MAX_QUERY_LENGTH: '200', QUERY_TIMEOUT_MS: '50' });
  client = await clientOf(gateway, 'tools');
});

after(async () => {
  await Promise.allSettled(clients.map((c) => c.close()));
  await limited?.stop();
  await gateway?.stop();
  await db?.cleanup();
});

describe('falkordb_query', () => {
  it('returns rows keyed by column, with stats, and the same JSON as text', async () => {
    const created = await callTool(client, 'falkordb_query', { graphName: 'people', query: "CREATE (:Person {name: 'Ann', age: 42})-[:KNOWS {since: 2020}]->(:Person {name: 'Bob'})" });
    assert.equal(created.ok, true);
    assert.equal((created.structured?.stats as Record<string, number>).nodesCreated, 2);
    assert.deepEqual(JSON.parse(created.text), created.structured);
    const read = await mustCall(client, 'falkordb_query', { graphName: 'people', query: 'MATCH (p:Person) RETURN p.name AS name ORDER BY name' });
    assert.deepEqual(read.columns, ['name']);
    assert.deepEqual(read.rows, [{ name: 'Ann' }, { name: 'Bob' }]);
    assert.equal(read.rowCount, 2);
    assert.equal(read.truncated, false);
    assert.equal(read.graph, 'people');
    assert.equal(typeof read.executionTimeMs, 'number');
  });

  it('returns nodes, relationships and paths as plain JSON', async () => {
    const out = await mustCall(client, 'falkordb_query', { graphName: 'people', query: "MATCH p=(a:Person {name: 'Ann'})-[r:KNOWS]->(b) RETURN a, r, p" });
    const row = (out.rows as Record<string, Record<string, unknown>>[])[0]!;
    assert.deepEqual(row.a!.labels, ['Person']);
    assert.deepEqual(row.a!.properties, { name: 'Ann', age: 42 });
    assert.equal(row.r!.type, 'KNOWS');
    assert.deepEqual(row.r!.properties, { since: 2020 });
    assert.equal(row.r!.startId, row.a!.id);
    assert.equal((row.p!.nodes as unknown[]).length, 2);
    assert.equal((row.p!.relationships as unknown[]).length, 1);
  });

  it('returns temporal values, points, maps and big integers without loss', async () => {
    const out = await mustCall(client, 'falkordb_query', {
      graphName: 'people',
      query: "RETURN date('2024-01-02') AS d, localdatetime('2024-01-02T03:04:05') AS dt, duration('P1DT2H') AS dur, point({latitude: 1.5, longitude: 2}) AS pt, {a: [1, 'x', null, true]} AS m, 9007199254740993 AS big, 1.25 AS f",
    });
    assert.deepEqual(out.rows, [{ d: '2024-01-02', dt: '2024-01-02T03:04:05', dur: 'P1DT2H', pt: { latitude: 1.5, longitude: 2 }, m: { a: [1, 'x', null, true] }, big: '9007199254740993', f: 1.25 }]);
  });

  it('passes parameters as values: an injection attempt stays a string', async () => {
    await mustCall(client, 'falkordb_query', { graphName: 'inj', query: 'CREATE (:Keep {v: 1})' });
    const evil = "x'}) MATCH (n) DETACH DELETE n //\" RETURN 1 //";
    await mustCall(client, 'falkordb_query', { graphName: 'inj', query: 'CREATE (:Item {name: $name})', parameters: { name: evil } });
    const out = await mustCall(client, 'falkordb_query', { graphName: 'inj', query: 'MATCH (k:Keep) WITH count(k) AS keep MATCH (i:Item) RETURN keep, i.name AS name' });
    assert.deepEqual(out.rows, [{ keep: 1, name: evil }]);
  });

  it('refuses a parameter name that would be spliced into the query', async () => {
    const out = await callTool(client, 'falkordb_query', { graphName: 'inj', query: 'RETURN 1', parameters: { 'x=1 MATCH (n) DETACH DELETE n //': 1 } });
    assert.equal(out.error?.code, 'PARAMETERS_INVALID');
    const still = await mustCall(client, 'falkordb_query', { graphName: 'inj', query: 'MATCH (k:Keep) RETURN count(k) AS c' });
    assert.deepEqual(still.rows, [{ c: 1 }]);
  });

  it('honours readOnly: true even with the write scope', async () => {
    const out = await callTool(client, 'falkordb_query', { graphName: 'inj', query: 'CREATE (:Nope)', readOnly: true });
    assert.equal(out.error?.code, 'QUERY_FORBIDDEN');
    assert.match(out.error?.message ?? '', /readOnly/);
  });

  it("cannot read the server's files with LOAD CSV", async () => {
    for (const query of ["LOAD CSV FROM 'file:///etc/passwd' AS r RETURN r", "LOAD CSV FROM 'file://../../../../etc/passwd' AS r RETURN r", "LOAD/**/CSV FROM 'file:///etc/passwd' AS r RETURN r"]) {
      const out = await callTool(client, 'falkordb_query', { graphName: 'files', query });
      assert.equal(out.ok, false, query);
      assert.equal(out.error?.code, 'QUERY_FORBIDDEN');
      assert.ok(!out.text.includes('root:'), 'no file content leaks');
    }
  });

  it("cannot read the server's files even with LOAD CSV allowed: the import folder is empty and confined", async () => {
    const open = await startTestGateway(db.url, { ALLOW_LOAD_CSV: 'true' });
    try {
      const c = await clientOf(open, 'csv');
      for (const query of ["LOAD CSV FROM 'file:///etc/passwd' AS r RETURN r", "LOAD CSV FROM 'file://../../../../etc/passwd' AS r RETURN r"]) {
        const out = await callTool(c, 'falkordb_query', { graphName: 'files', query });
        assert.equal(out.ok, false, query);
        assert.ok(!out.text.includes('root:'), 'no file content leaks');
      }
    } finally {
      await open.stop();
    }
  });

  it('reports a missing graph by name, for reads', async () => {
    const reader = await clientOf(gateway, 'tools', 'read');
    const out = await callTool(reader, 'falkordb_query', { graphName: 'nothing_here', query: 'MATCH (n) RETURN n' });
    assert.equal(out.error?.code, 'GRAPH_NOT_FOUND');
    assert.match(out.error?.message ?? '', /"nothing_here"/);
    assert.ok(!out.text.includes('tools_'), 'no key prefix in the message');
  });

  it('refuses a bad graph name with the rule', async () => {
    const out = await callTool(client, 'falkordb_query', { graphName: '../x', query: 'RETURN 1' });
    assert.equal(out.error?.code, 'GRAPH_NAME_INVALID');
    assert.match(out.error?.message ?? '', /1 to 128 characters/);
  });

  it('keeps its own prefix out of Cypher error messages', async () => {
    const out = await callTool(client, 'falkordb_query', { graphName: 'people', query: 'RETURN foo(' });
    assert.equal(out.error?.code, 'QUERY_FAILED');
    assert.ok(!out.text.includes('tools_'));
  });

  it('caps rows, query length and time by the server limits', async () => {
    const c = await clientOf(limited, 'limits');
    await mustCall(c, 'falkordb_query', { graphName: 'g', query: 'CREATE (:Seed)' });
    const rows = await mustCall(c, 'falkordb_query', { graphName: 'g', query: 'UNWIND range(1, 10) AS x RETURN x' });
    assert.equal(rows.rowCount, 3);
    assert.equal(rows.truncated, true);
    const long = await callTool(c, 'falkordb_query', { graphName: 'g', query: `RETURN '${'x'.repeat(300)}'` });
    assert.equal(long.error?.code, 'QUERY_TOO_LONG');
    const slow = await callTool(c, 'falkordb_query', { graphName: 'g', query: 'WITH range(1, 10000) AS r UNWIND r AS a UNWIND r AS x WITH x WHERE x % 7 = 0 RETURN count(x)', timeoutMs: 60000 });
    assert.equal(slow.error?.code, 'QUERY_TIMEOUT');
  });
});

describe('the other tools', () => {
  it('describes a graph schema', async () => {
    await mustCall(client, 'falkordb_query', { graphName: 'schema', query: "CREATE (:City {name: 'Oslo'})-[:IN]->(:Country {name: 'Norway'})" });
    await mustCall(client, 'falkordb_query', { graphName: 'schema', query: 'CREATE INDEX FOR (c:City) ON (c.name)' });
    const schema = await mustCall(client, 'falkordb_graph_schema', { graphName: 'schema' });
    assert.deepEqual((schema.labels as Array<{ name: string }>).map((l) => l.name).sort(), ['City', 'Country']);
    assert.deepEqual((schema.relationshipTypes as Array<{ name: string }>).map((t) => t.name), ['IN']);
    assert.deepEqual(schema.propertyKeys, ['name']);
    assert.deepEqual(schema.indexes, ['City.name range']);
    assert.ok(Array.isArray(schema.constraints));
    const missing = await callTool(client, 'falkordb_graph_schema', { graphName: 'nope' });
    assert.equal(missing.error?.code, 'GRAPH_NOT_FOUND');
  });

  it('says deleted: false for a graph that does not exist', async () => {
    assert.deepEqual(await mustCall(client, 'falkordb_delete_graph', { graphName: 'never' }), { graph: 'never', deleted: false });
  });

  it("shows the caller's tenant, scopes, expiry and limits in server info", async () => {
    const c = await clientOf(gateway, 'info-tenant', 'read');
    const info = await mustCall(c, 'falkordb_server_info');
    assert.equal(info.tenant, 'info-tenant');
    assert.deepEqual(info.scopes, ['read']);
    assert.match(String(info.tokenExpiresAt), /^\d{4}-\d\d-\d\dT/);
    assert.equal((info.falkordb as { version: string }).version, '4.16.3');
    assert.equal((info.limits as { maxRows: number }).maxRows, 10000);
  });

  it("reports database health and the caller's tenant", async () => {
    const health = await mustCall(client, 'falkordb_health');
    assert.equal(health.tenant, 'tools');
    assert.equal((health.database as { reachable: boolean }).reachable, true);
  });
});
