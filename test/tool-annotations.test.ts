// What tools/list tells a host about each tool, read through a real MCP client:
// hosts decide from the annotations whether to ask the user before a call, so
// each tool's hints must match what it can do, which a read-only token shows.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import type { Tool } from '@modelcontextprotocol/sdk/types.js';
import type { RunningGateway } from '../src/main.js';
import { startTestFalkorDB, type TestFalkorDB } from './support/falkordb.js';
import { startTestGateway } from './support/gateway.js';
import { callTool, connectClient, mustCall } from './support/mcp.js';
import { signTestToken } from './support/tokens.js';

/**
 * What each tool can do, and a call that does it: `read` tools only read (a
 * read-only token may make the call), `write` may change or delete data, `delete`
 * removes a whole graph. A tool missing here fails the test until it is classified.
 */
const CAPABILITIES: Record<string, { can: 'read' | 'write' | 'delete'; call: Record<string, unknown> }> = {
  falkordb_query: { can: 'write', call: { graphName: 'g', query: 'MATCH (n) DETACH DELETE n' } },
  falkordb_read_query: { can: 'read', call: { graphName: 'g', query: 'MATCH (n) RETURN count(n) AS n' } },
  falkordb_explain: { can: 'read', call: { graphName: 'g', query: 'MATCH (n) RETURN n' } },
  falkordb_list_graphs: { can: 'read', call: {} },
  falkordb_graph_schema: { can: 'read', call: { graphName: 'g' } },
  falkordb_create_constraint: { can: 'write', call: { graphName: 'g', kind: 'mandatory', entity: 'node', label: 'Kept', properties: ['name'] } },
  falkordb_drop_constraint: { can: 'write', call: { graphName: 'g', kind: 'mandatory', entity: 'node', label: 'Kept', properties: ['name'] } },
  falkordb_delete_graph: { can: 'delete', call: { graphName: 'g' } },
  falkordb_server_info: { can: 'read', call: {} },
  falkordb_health: { can: 'read', call: {} },
};

let db: TestFalkorDB;
let gateway: RunningGateway;
let tools: Tool[];
const clients: Client[] = [];

async function clientOf(tenant: string, scope: string): Promise<Client> {
  const client = await connectClient('http', gateway.url, await signTestToken(tenant, { scope }));
  clients.push(client);
  return client;
}

before(async () => {
  db = await startTestFalkorDB();
  gateway = await startTestGateway(db.url);
  tools = (await (await clientOf('annotations', 'read write admin')).listTools()).tools;
});

after(async () => {
  await Promise.allSettled(clients.map((c) => c.close()));
  await gateway?.stop();
  await db?.cleanup();
});

describe('tools/list', () => {
  it('lists exactly the tools whose capabilities this test knows', () => {
    assert.deepEqual(tools.map((tool) => tool.name).sort(), Object.keys(CAPABILITIES).sort());
  });

  it('gives every tool a title and a description that says what it does', () => {
    for (const tool of tools) {
      assert.ok((tool.title ?? '').length > 0, `${tool.name} has a title`);
      assert.ok(tool.description !== undefined && tool.description.length >= 60, `${tool.name} has a description`);
    }
  });

  it('gives every tool all four hints, and none reaches outside the database', () => {
    for (const tool of tools) {
      const hints = tool.annotations ?? {};
      for (const hint of ['readOnlyHint', 'destructiveHint', 'idempotentHint', 'openWorldHint'] as const) {
        assert.equal(typeof hints[hint], 'boolean', `${tool.name}.${hint}`);
      }
      assert.equal(hints.openWorldHint, false, tool.name);
    }
  });

  it('marks the tools that only read as read-only and not destructive', () => {
    for (const tool of tools.filter((t) => CAPABILITIES[t.name]?.can === 'read')) {
      assert.equal(tool.annotations?.readOnlyHint, true, tool.name);
      assert.equal(tool.annotations?.destructiveHint, false, tool.name);
      assert.equal(tool.annotations?.idempotentHint, true, tool.name);
    }
  });

  it('marks the tools that can change or delete data as neither read-only nor safe', () => {
    const query = tools.find((t) => t.name === 'falkordb_query')!;
    assert.deepEqual([query.annotations?.readOnlyHint, query.annotations?.destructiveHint, query.annotations?.idempotentHint], [false, true, false]);
    const remove = tools.find((t) => t.name === 'falkordb_delete_graph')!;
    // Deleting a graph twice leaves the same state: it is destructive, and idempotent.
    assert.deepEqual([remove.annotations?.readOnlyHint, remove.annotations?.destructiveHint, remove.annotations?.idempotentHint], [false, true, true]);
    // A new constraint removes nothing; dropping one takes a rule away. Both, repeated, leave the same state.
    const create = tools.find((t) => t.name === 'falkordb_create_constraint')!;
    assert.deepEqual([create.annotations?.readOnlyHint, create.annotations?.destructiveHint, create.annotations?.idempotentHint], [false, false, true]);
    const drop = tools.find((t) => t.name === 'falkordb_drop_constraint')!;
    assert.deepEqual([drop.annotations?.readOnlyHint, drop.annotations?.destructiveHint, drop.annotations?.idempotentHint], [false, true, true]);
  });

  it('lists a token only the tools its scopes can use: a read-only token exactly the read tools, a write token all but the graph delete', async () => {
    const byScope = async (scope: string) => (await (await clientOf('annotations-lists', scope)).listTools()).tools.map((t) => t.name).sort();
    const names = (...kinds: string[]) => Object.entries(CAPABILITIES).filter(([, c]) => kinds.includes(c.can)).map(([name]) => name).sort();
    assert.deepEqual(await byScope('read'), names('read'));
    assert.deepEqual(await byScope('read write'), names('read', 'write'));
    assert.deepEqual(await byScope('read write admin'), names('read', 'write', 'delete'));
  });
});

describe('the hints against what each tool does', () => {
  const tenant = 'annotations-calls';
  let reader: Client;
  let writer: Client;

  before(async () => {
    writer = await clientOf(tenant, 'read write admin');
    reader = await clientOf(tenant, 'read');
  });

  for (const [name, { can, call }] of Object.entries(CAPABILITIES)) {
    it(`${name}: ${can === 'read' ? 'a read-only token may call it, and nothing changes' : 'a read-only token may not make its change'}`, async () => {
      await mustCall(writer, 'falkordb_query', { graphName: 'g', query: 'CREATE (:Kept)' });
      const outcome = await callTool(reader, name, call);
      assert.equal(outcome.ok, can === 'read', `${name} with the read scope: ${outcome.text}`);
      const kept = await mustCall(writer, 'falkordb_read_query', { graphName: 'g', query: 'MATCH (k:Kept) RETURN count(k) AS n' });
      assert.ok(((kept.rows as Array<{ n: number }>)[0]?.n ?? 0) >= 1, `${name} left the graph as it was`);
    });
  }
});
