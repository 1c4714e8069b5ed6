// falkordb_graph_schema's compact and full forms, and falkordb_create_constraint /
// falkordb_drop_constraint, through a real MCP client against a real FalkorDB.

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

let db: TestFalkorDB;
let direct: Database;
let gateway: RunningGateway;
let aclGateway: RunningGateway;
const clients: Client[] = [];

async function clientOf(tenant: string, options: { scope?: string; claims?: Record<string, unknown>; on?: RunningGateway } = {}): Promise<Client> {
  const token = await signTestToken(tenant, { scope: options.scope ?? 'read write admin', claims: options.claims ?? {} });
  const c = await connectClient('http', (options.on ?? gateway).url, token);
  clients.push(c);
  // The client checks every structuredContent against the outputSchema it listed.
  await c.listTools();
  return c;
}

before(async () => {
  db = await startTestFalkorDB();
  direct = await connectDatabase({ url: db.url, connectTimeoutMs: 5000, logger: testLogger() });
  gateway = await startTestGateway(db.url);
  aclGateway = await startTestGateway(db.url, { TENANT_ISOLATION: 'acl', ACL_USER_SECRET: 'schema-test-user-secret-that-is-long-enough-0123456789' });
});

after(async () => {
  await Promise.allSettled(clients.map((c) => c.close()));
  await aclGateway?.stop();
  await gateway?.stop();
  await direct?.close();
  await db?.cleanup();
});

interface Label {
  name: string;
  count: number;
  properties: string[];
}
interface RelType extends Label {
  endpoints: Array<{ from: string | null; to: string | null }>;
}

const byName = <T extends { name: string }>(list: unknown): T[] => [...(list as T[])].sort((a, b) => a.name.localeCompare(b.name));
const schemaOf = (client: Client, graphName: string, detail?: string) => mustCall(client, 'falkordb_graph_schema', { graphName, ...(detail === undefined ? {} : { detail }) });
const write = (client: Client, graphName: string, query: string) => mustCall(client, 'falkordb_query', { graphName, query });
const personEmail = { kind: 'unique', entity: 'node', label: 'Person', properties: ['email'] } as const;

describe('falkordb_graph_schema', () => {
  let client: Client;
  before(async () => {
    client = await clientOf('sc-movies');
    await write(client, 'movies', "UNWIND range(1, 3) AS i CREATE (:Person {name: 'p' + toString(i)})");
    await write(client, 'movies', "CREATE (:Movie {title: 'Heat', year: 1995}), (:Movie {title: 'Ronin'})");
    await write(client, 'movies', "MATCH (p:Person {name: 'p1'}), (m:Movie) CREATE (p)-[:ACTED_IN {role: 'x'}]->(m)");
    await write(client, 'movies', "MATCH (p:Person {name: 'p2'}) CREATE (p)-[:KNOWS]->(:Stranger)");
    await write(client, 'movies', 'CREATE INDEX FOR (p:Person) ON (p.name)');
    await write(client, 'movies', 'CREATE INDEX FOR ()-[r:ACTED_IN]-() ON (r.role)');
  });

  it('gives labels and relationship types with exact counts, sampled property keys and endpoints, and indexes as short strings', async () => {
    const schema = await schemaOf(client, 'movies');
    assert.deepEqual(byName<Label>(schema.labels), [
      { name: 'Movie', count: 2, properties: ['title', 'year'] },
      { name: 'Person', count: 3, properties: ['name'] },
      { name: 'Stranger', count: 1, properties: [] },
    ]);
    assert.deepEqual(byName<RelType>(schema.relationshipTypes), [
      { name: 'ACTED_IN', count: 2, properties: ['role'], endpoints: [{ from: 'Person', to: 'Movie' }] },
      { name: 'KNOWS', count: 1, properties: [], endpoints: [{ from: 'Person', to: 'Stranger' }] },
    ]);
    assert.deepEqual([...(schema.propertyKeys as string[])].sort(), ['name', 'role', 'title', 'year']);
    assert.deepEqual([...(schema.indexes as string[])].sort(), ['ACTED_IN.role range (relationship)', 'Person.name range']);
    assert.deepEqual(schema.constraints, []);
    assert.deepEqual(schema.sampling, { nodesPerLabel: 1000, relationshipsPerType: 1000, complete: true });
    assert.equal('indexDetails' in schema, false);
    assert.doesNotMatch(JSON.stringify(schema), /docTableSize/);
  });

  it('answers within its declared outputSchema at both detail levels', async () => {
    const listed = (await client.listTools()).tools.find((t) => t.name === 'falkordb_graph_schema');
    assert.deepEqual(listed?.annotations, { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false });
    const properties = Object.keys((listed?.outputSchema as { properties: Record<string, unknown> }).properties).sort();
    assert.deepEqual(properties, ['constraints', 'error', 'graph', 'indexDetails', 'indexes', 'labels', 'propertyKeys', 'relationshipTypes', 'sampling']);
    for (const detail of ['compact', 'full']) assert.equal((await callTool(client, 'falkordb_graph_schema', { graphName: 'movies', detail })).ok, true);
  });

  it('adds the index internals with detail: "full", the rest unchanged', async () => {
    const compact = await schemaOf(client, 'movies');
    const { indexDetails, ...rest } = await schemaOf(client, 'movies', 'full');
    assert.deepEqual(rest, compact);
    const details = indexDetails as Array<Record<string, unknown>>;
    assert.deepEqual(details.map((d) => d['label']).sort(), ['ACTED_IN', 'Person']);
    assert.match(JSON.stringify(details), /docTableSize/);
  });

  it('refuses a detail level it does not know', async () => {
    const out = await callTool(client, 'falkordb_graph_schema', { graphName: 'movies', detail: 'everything' });
    assert.equal(out.error?.code, 'INVALID_ARGUMENT');
  });

  it('shows the new counts right after a write, though the schema is cached', async () => {
    const person = async () => byName<Label>((await schemaOf(client, 'movies')).labels).find((l) => l.name === 'Person');
    assert.equal((await person())?.count, 3);
    await write(client, 'movies', "CREATE (:Person {name: 'p4', born: 1970})");
    const after = await person();
    assert.equal(after?.count, 4);
    assert.deepEqual(after?.properties, ['born', 'name']);
  });
});

describe('falkordb_create_constraint and falkordb_drop_constraint', () => {
  let client: Client;
  before(async () => {
    client = await clientOf('sc-people');
    await write(client, 'people', "CREATE (:Person {email: 'a@x'})-[:KNOWS {since: 2020}]->(:Person {email: 'b@x'})");
  });

  it('creates a unique constraint with the index it needs, lists it in the schema, and refuses a duplicate clearly', async () => {
    const before = await schemaOf(client, 'people');
    assert.deepEqual(before.constraints, []);
    const created = await mustCall(client, 'falkordb_create_constraint', { graphName: 'people', ...personEmail });
    assert.deepEqual(created, { graph: 'people', ...personEmail, created: true, indexCreated: true, status: 'OPERATIONAL' });
    const schema = await schemaOf(client, 'people');
    assert.deepEqual(schema.constraints, [{ ...personEmail, status: 'OPERATIONAL' }]);
    assert.ok((schema.indexes as string[]).includes('Person.email range'), JSON.stringify(schema.indexes));
    const duplicate = await callTool(client, 'falkordb_query', { graphName: 'people', query: "CREATE (:Person {email: 'a@x'})" });
    assert.equal(duplicate.error?.code, 'QUERY_FAILED');
    assert.match(duplicate.error?.message ?? '', /unique constraint/i);
    const count = await mustCall(client, 'falkordb_query', { graphName: 'people', query: "MATCH (p:Person {email: 'a@x'}) RETURN count(p) AS n" });
    assert.deepEqual(count.rows, [{ n: 1 }]);
  });

  it('treats creating an existing constraint as success, with created: false', async () => {
    const again = await mustCall(client, 'falkordb_create_constraint', { graphName: 'people', ...personEmail });
    assert.equal(again.created, false);
    assert.equal(again.indexCreated, false);
    assert.equal(again.status, 'OPERATIONAL');
  });

  it('creates a mandatory constraint on a relationship type, which refuses a relationship without the property', async () => {
    const spec = { kind: 'mandatory', entity: 'relationship', label: 'KNOWS', properties: ['since'] };
    const created = await mustCall(client, 'falkordb_create_constraint', { graphName: 'people', ...spec });
    assert.equal(created.created, true);
    assert.equal(created.indexCreated, false);
    const missing = await callTool(client, 'falkordb_query', { graphName: 'people', query: "MATCH (a:Person {email: 'a@x'}), (b:Person {email: 'b@x'}) CREATE (b)-[:KNOWS]->(a)" });
    assert.equal(missing.error?.code, 'QUERY_FAILED');
    assert.match(missing.error?.message ?? '', /mandatory/i);
    assert.deepEqual(
      ((await schemaOf(client, 'people')).constraints as Array<Record<string, unknown>>).map((c) => `${String(c['kind'])} ${String(c['label'])}`).sort(),
      ['mandatory KNOWS', 'unique Person'],
    );
  });

  it('drops a constraint, gone from the schema at once, and says dropped: false the second time', async () => {
    const spec = { kind: 'mandatory', entity: 'relationship', label: 'KNOWS', properties: ['since'] };
    assert.deepEqual(await mustCall(client, 'falkordb_drop_constraint', { graphName: 'people', ...spec }), { graph: 'people', ...spec, dropped: true });
    assert.deepEqual((await schemaOf(client, 'people')).constraints, [{ ...personEmail, status: 'OPERATIONAL' }]);
    assert.equal((await mustCall(client, 'falkordb_drop_constraint', { graphName: 'people', ...spec })).dropped, false);
    await mustCall(client, 'falkordb_drop_constraint', { graphName: 'people', ...personEmail });
    assert.deepEqual((await schemaOf(client, 'people')).constraints, []);
  });

  it('refuses a unique constraint the data breaks, and leaves neither it nor its index behind', async () => {
    const c = await clientOf('sc-dupes');
    await write(c, 'dupes', "CREATE (:Item {sku: 'a'}), (:Item {sku: 'a'})");
    const out = await callTool(c, 'falkordb_create_constraint', { graphName: 'dupes', kind: 'unique', entity: 'node', label: 'Item', properties: ['sku'] });
    assert.equal(out.error?.code, 'QUERY_FAILED');
    assert.match(out.error?.message ?? '', /data breaks the unique constraint on \(:Item\) \(sku\): two or more nodes labelled Item share the same value of sku/);
    const schema = await schemaOf(c, 'dupes');
    assert.deepEqual(schema.constraints, []);
    assert.deepEqual(schema.indexes, []);
  });

  it('creates a unique constraint on a relationship type with its index', async () => {
    const spec = { kind: 'unique', entity: 'relationship', label: 'KNOWS', properties: ['since'] };
    const created = await mustCall(client, 'falkordb_create_constraint', { graphName: 'people', ...spec });
    assert.equal(created.indexCreated, true);
    const schema = await schemaOf(client, 'people');
    assert.ok((schema.indexes as string[]).includes('KNOWS.since range (relationship)'), JSON.stringify(schema.indexes));
    assert.deepEqual(schema.constraints, [{ ...spec, status: 'OPERATIONAL' }]);
  });

  it('creates the graph when it does not exist yet, so constraints can come before the data', async () => {
    const c = await clientOf('sc-fresh');
    await mustCall(c, 'falkordb_create_constraint', { graphName: 'fresh', kind: 'mandatory', entity: 'node', label: 'User', properties: ['id'] });
    assert.deepEqual((await mustCall(c, 'falkordb_list_graphs')).graphs, ['fresh']);
    const refused = await callTool(c, 'falkordb_query', { graphName: 'fresh', query: 'CREATE (:User {name: 1})' });
    assert.equal(refused.error?.code, 'QUERY_FAILED');
  });

  it('names the constraint tools when a query tries to create a constraint in Cypher', async () => {
    const out = await callTool(client, 'falkordb_query', { graphName: 'people', query: 'CREATE CONSTRAINT ON (p:Person) ASSERT p.email IS UNIQUE' });
    assert.equal(out.error?.code, 'QUERY_FAILED');
    assert.match(out.error?.message ?? '', /falkordb_create_constraint/);
    assert.doesNotMatch(out.error?.message ?? '', /GRAPH\.CONSTRAINT/);
  });

  it('says GRAPH_NOT_FOUND for a drop on a graph that does not exist, without creating it', async () => {
    const out = await callTool(client, 'falkordb_drop_constraint', { graphName: 'nowhere', ...personEmail });
    assert.equal(out.error?.code, 'GRAPH_NOT_FOUND');
    assert.equal(await direct.sendCommand(['EXISTS', tenantGraphKey('sc-people', 'nowhere')]), 0);
  });

  it('refuses names it cannot pass on: a backtick, a property named twice, no property', async () => {
    for (const bad of [{ label: 'P`x', properties: ['a'] }, { label: 'P', properties: ['a', 'a'] }, { label: 'P', properties: [] }]) {
      const out = await callTool(client, 'falkordb_create_constraint', { graphName: 'people', kind: 'unique', entity: 'node', ...bad });
      assert.equal(out.error?.code, 'INVALID_ARGUMENT', JSON.stringify(bad));
    }
  });

  it('needs the write scope on the graph, for create and drop', async () => {
    const reader = await clientOf('sc-people', { scope: 'read' });
    for (const tool of ['falkordb_create_constraint', 'falkordb_drop_constraint']) {
      const out = await callTool(reader, tool, { graphName: 'people', ...personEmail });
      assert.equal(out.error?.code, 'SCOPE_MISSING', tool);
    }
    const narrow = await clientOf('sc-people', { claims: { graphs: ['reports_*'] } });
    const forbidden = await callTool(narrow, 'falkordb_create_constraint', { graphName: 'people', ...personEmail });
    assert.equal(forbidden.error?.code, 'GRAPH_FORBIDDEN');
    assert.deepEqual((await schemaOf(client, 'people')).constraints, [{ kind: 'unique', entity: 'relationship', label: 'KNOWS', properties: ['since'], status: 'OPERATIONAL' }]);
  });

  it("reaches only the caller's own graph of that name, and no refusal names another tenant's key", async () => {
    const other = await clientOf('sc-other');
    const dropped = await callTool(other, 'falkordb_drop_constraint', { graphName: 'people', kind: 'unique', entity: 'relationship', label: 'KNOWS', properties: ['since'] });
    assert.equal(dropped.error?.code, 'GRAPH_NOT_FOUND');
    assert.doesNotMatch(dropped.text, new RegExp(`${tenantKeyPrefix('sc-people')}|${tenantKeyPrefix('sc-other')}`));
    await mustCall(other, 'falkordb_create_constraint', { graphName: 'people', ...personEmail });
    assert.deepEqual((await schemaOf(other, 'people')).constraints, [{ ...personEmail, status: 'OPERATIONAL' }]);
    assert.equal(((await schemaOf(client, 'people')).constraints as unknown[]).length, 1);
    // A graph name shaped like the other tenant's key is still a name in the caller's own tenant.
    await mustCall(other, 'falkordb_create_constraint', { graphName: 'sc-people_people', kind: 'mandatory', entity: 'node', label: 'X', properties: ['y'] });
    assert.equal(((await schemaOf(client, 'people')).constraints as unknown[]).length, 1);
  });

  it('lists both tools with annotations true to what they do', async () => {
    const { tools } = await client.listTools();
    const create = tools.find((t) => t.name === 'falkordb_create_constraint');
    const drop = tools.find((t) => t.name === 'falkordb_drop_constraint');
    assert.deepEqual(create?.annotations, { readOnlyHint: false, destructiveHint: false, idempotentHint: true, openWorldHint: false });
    assert.deepEqual(drop?.annotations, { readOnlyHint: false, destructiveHint: true, idempotentHint: true, openWorldHint: false });
    assert.match(create?.description ?? '', /"write" scope/);
  });
});

describe('constraints with TENANT_ISOLATION=acl', () => {
  it("creates and drops a constraint on the tenant's own database user", async () => {
    const c = await clientOf('sc-acl', { on: aclGateway });
    await mustCall(c, 'falkordb_query', { graphName: 'g', query: "CREATE (:P {id: 1})" });
    const created = await mustCall(c, 'falkordb_create_constraint', { graphName: 'g', kind: 'unique', entity: 'node', label: 'P', properties: ['id'] });
    assert.equal(created.created, true);
    assert.deepEqual((await mustCall(c, 'falkordb_graph_schema', { graphName: 'g' })).constraints, [{ kind: 'unique', entity: 'node', label: 'P', properties: ['id'], status: 'OPERATIONAL' }]);
    assert.equal((await mustCall(c, 'falkordb_drop_constraint', { graphName: 'g', kind: 'unique', entity: 'node', label: 'P', properties: ['id'] })).dropped, true);
  });
});
