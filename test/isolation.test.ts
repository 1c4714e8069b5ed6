// Tenant isolation through a real MCP client, over every transport, with each
// isolation mode: key prefixes alone, and prefixes plus a database user per tenant.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import type { RunningGateway } from '../src/main.js';
import { startTestFalkorDB, type TestFalkorDB } from './support/falkordb.js';
import { startTestGateway } from './support/gateway.js';
import { callTool, connectClient, connectStdioClient, mustCall, type TransportKind } from './support/mcp.js';
import { signTestToken } from './support/tokens.js';

const MODES: Record<string, Record<string, string>> = {
  prefix: { TENANT_ISOLATION: 'prefix' },
  acl: { TENANT_ISOLATION: 'acl', ACL_USER_SECRET: 'isolation-suite-acl-user-secret-0123456789' },
};

for (const [mode, isolationEnv] of Object.entries(MODES)) {
  describe(`TENANT_ISOLATION=${mode}`, () => {
    let db: TestFalkorDB;
    let gateway: RunningGateway;
    const clients: Client[] = [];

    before(async () => {
      db = await startTestFalkorDB();
      gateway = await startTestGateway(db.url, isolationEnv);
    });

    after(async () => {
      await Promise.allSettled(clients.map((c) => c.close()));
      await gateway?.stop();
      await db?.cleanup();
    });

    async function clientFor(kind: TransportKind, tenant: string, scope = 'read write admin'): Promise<Client> {
      const client = kind === 'stdio' ? await connectStdioClient(tenant, { FALKORDB_URL: db.url, ...isolationEnv }, scope) : await connectClient(kind, gateway.url, await signTestToken(tenant, { scope }));
      clients.push(client);
      return client;
    }

    const KINDS: TransportKind[] = ['http', 'sse-header', 'sse-query', 'stdio'];

    for (const kind of KINDS) {
      describe(`isolation over ${kind}`, () => {
        const t = (name: string) => `${name}-${kind}`;

        it('lists the ten tools', async () => {
          const client = await clientFor(kind, t('lister'));
          const { tools } = await client.listTools();
          assert.deepEqual(
            tools.map((tool) => tool.name).sort(),
            ['falkordb_create_constraint', 'falkordb_delete_graph', 'falkordb_drop_constraint', 'falkordb_explain', 'falkordb_graph_schema', 'falkordb_health', 'falkordb_list_graphs', 'falkordb_query', 'falkordb_read_query', 'falkordb_server_info'],
          );
          for (const tool of tools) assert.ok(tool.outputSchema, `${tool.name} declares an outputSchema`);
        });

        it('lists a read-only token only the tools it can use, and still answers its call of a hidden one with the scope it lacks', async () => {
          const client = await clientFor(kind, t('reader'), 'read');
          const { tools } = await client.listTools();
          assert.deepEqual(
            tools.map((tool) => tool.name).sort(),
            ['falkordb_explain', 'falkordb_graph_schema', 'falkordb_health', 'falkordb_list_graphs', 'falkordb_read_query', 'falkordb_server_info'],
          );
          const refused = await callTool(client, 'falkordb_delete_graph', { graphName: 'anything' });
          assert.equal(refused.error?.code, 'SCOPE_MISSING');
          // falkordb_query is not listed, but a client configured to call it still reads with it.
          await mustCall(await clientFor(kind, t('reader')), 'falkordb_query', { graphName: 'notes', query: 'CREATE (:Note)' });
          assert.deepEqual((await mustCall(client, 'falkordb_query', { graphName: 'notes', query: 'MATCH (n:Note) RETURN count(n) AS n' })).rows, [{ n: 1 }]);
        });

        it("keeps tenant A's node out of tenant B's graph of the same name", async () => {
          const a = await clientFor(kind, t('acme'));
          const b = await clientFor(kind, t('widgets'));
          await mustCall(a, 'falkordb_query', { graphName: 'shared', query: "CREATE (:Secret {owner: 'acme', code: 42})" });
          await mustCall(b, 'falkordb_query', { graphName: 'shared', query: "CREATE (:Public {owner: 'widgets'})" });
          const seenByB = await mustCall(b, 'falkordb_query', { graphName: 'shared', query: 'MATCH (n) RETURN n.owner AS owner' });
          assert.deepEqual(seenByB.rows, [{ owner: 'widgets' }]);
          const secretsForB = await mustCall(b, 'falkordb_query', { graphName: 'shared', query: 'MATCH (n:Secret) RETURN count(n) AS c' });
          assert.deepEqual(secretsForB.rows, [{ c: 0 }]);
          const seenByA = await mustCall(a, 'falkordb_query', { graphName: 'shared', query: 'MATCH (n) RETURN n.owner AS owner' });
          assert.deepEqual(seenByA.rows, [{ owner: 'acme' }]);
        });

        it("lists only the caller's graphs, without prefix", async () => {
          const a = await clientFor(kind, t('list-a'));
          const b = await clientFor(kind, t('list-b'));
          await mustCall(a, 'falkordb_query', { graphName: 'alpha', query: 'CREATE (:X)' });
          await mustCall(a, 'falkordb_query', { graphName: 'beta_2', query: 'CREATE (:X)' });
          await mustCall(b, 'falkordb_query', { graphName: 'gamma', query: 'CREATE (:X)' });
          assert.deepEqual((await mustCall(a, 'falkordb_list_graphs')).graphs, ['alpha', 'beta_2']);
          assert.deepEqual((await mustCall(b, 'falkordb_list_graphs')).graphs, ['gamma']);
        });

        it('keeps tenant a_b graph c apart from tenant a graph b_c', async () => {
          const ab = await clientFor(kind, t('x') + '_b');
          const a = await clientFor(kind, t('x'));
          await mustCall(ab, 'falkordb_query', { graphName: 'c', query: "CREATE (:N {who: 'a_b'})" });
          await mustCall(a, 'falkordb_query', { graphName: 'b_c', query: "CREATE (:N {who: 'a'})" });
          assert.deepEqual((await mustCall(ab, 'falkordb_query', { graphName: 'c', query: 'MATCH (n) RETURN n.who AS who' })).rows, [{ who: 'a_b' }]);
          assert.deepEqual((await mustCall(a, 'falkordb_query', { graphName: 'b_c', query: 'MATCH (n) RETURN n.who AS who' })).rows, [{ who: 'a' }]);
          assert.deepEqual((await mustCall(a, 'falkordb_list_graphs')).graphs, ['b_c']);
          assert.deepEqual((await mustCall(ab, 'falkordb_list_graphs')).graphs, ['c']);
        });

        it('lets two devices of one tenant share data', async () => {
          const laptop = await clientFor(kind, t('team'));
          const desktop = await clientFor(kind, t('team'));
          await mustCall(laptop, 'falkordb_query', { graphName: 'notes', query: "CREATE (:Note {text: 'from laptop'})" });
          const rows = await mustCall(desktop, 'falkordb_query', { graphName: 'notes', query: 'MATCH (n:Note) RETURN n.text AS text' });
          assert.deepEqual(rows.rows, [{ text: 'from laptop' }]);
        });

        it('runs a read-only token through GRAPH.RO_QUERY and names the missing scope on a write', async () => {
          const writer = await clientFor(kind, t('ro'));
          await mustCall(writer, 'falkordb_query', { graphName: 'g', query: 'CREATE (:N {v: 1})' });
          const reader = await clientFor(kind, t('ro'), 'read');
          assert.deepEqual((await mustCall(reader, 'falkordb_query', { graphName: 'g', query: 'MATCH (n:N) RETURN n.v AS v' })).rows, [{ v: 1 }]);
          const write = await callTool(reader, 'falkordb_query', { graphName: 'g', query: 'CREATE (:N {v: 2})' });
          assert.equal(write.ok, false);
          assert.equal(write.error?.code, 'SCOPE_MISSING');
          assert.match(write.error?.message ?? '', /"write" scope/);
          assert.deepEqual((await mustCall(writer, 'falkordb_query', { graphName: 'g', query: 'MATCH (n:N) RETURN count(n) AS c' })).rows, [{ c: 1 }]);
        });

        it('needs admin to delete a graph', async () => {
          const writer = await clientFor(kind, t('del'), 'read write');
          await mustCall(writer, 'falkordb_query', { graphName: 'doomed', query: 'CREATE (:N)' });
          const refused = await callTool(writer, 'falkordb_delete_graph', { graphName: 'doomed' });
          assert.equal(refused.error?.code, 'SCOPE_MISSING');
          assert.match(refused.error?.message ?? '', /"admin"/);
          const admin = await clientFor(kind, t('del'), 'admin');
          assert.deepEqual(await mustCall(admin, 'falkordb_delete_graph', { graphName: 'doomed' }), { graph: 'doomed', deleted: true });
          assert.deepEqual((await mustCall(admin, 'falkordb_list_graphs')).graphs, []);
        });
      });
    }
  });
}

