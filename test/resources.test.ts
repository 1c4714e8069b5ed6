// The caller's graphs as MCP resources, through every kind of client: the graph
// list and each graph's schema (the same as falkordb_graph_schema gives), the
// schema template, pages of a long list, and errors that never tell whether
// another tenant has a graph of that name.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { CLIENT_KINDS, LEAK, TENANT_A, rpcFailure, twoTenantGateway } from './support/content.js';
import { postModern } from './support/http.js';
import { seedGraph } from './support/graphs.js';
import { signTestToken } from './support/tokens.js';
import { connectClient, mustCall } from './support/mcp.js';

const fx = twoTenantGateway();
const { withClient } = fx;

const GRAPHS = 'falkordb://graphs';
const schemaOf = (graph: string) => `falkordb://graphs/${graph}/schema`;

function json(contents: { contents: Array<{ text?: string }> }): Record<string, unknown> {
  assert.equal(contents.contents.length, 1);
  return JSON.parse(contents.contents[0]!.text ?? 'null') as Record<string, unknown>;
}

/** The error text with the graph's name taken out: what a caller could compare between two graphs. */
const withoutName = (message: string, graph: string) => message.split(graph).join('<graph>');

describe('resources, through every kind of client (tenant A with a read-only token, B beside it)', () => {
  for (const kind of CLIENT_KINDS) {
    it(`${kind}: declares resources (subscribe everywhere but the 2025 revisions' stateless /mcp), and lists A's graph list and one schema per graph of A's only`, async () => {
      await withClient(kind, fx.readOnlyA, async (client) => {
        const capabilities = client.getServerCapabilities();
        assert.ok(capabilities?.['resources'] !== undefined, 'resources capability');
        // Subscriptions only where one caller's stream outlives a request (test/subscriptions.test.ts).
        assert.equal((capabilities['resources'] as Record<string, unknown>)['subscribe'], kind === 'v1 /mcp' || kind === 'v2 2025 /mcp' ? undefined : true);
        const listed = await client.listResources();
        assert.deepEqual(
          listed.resources.map((r) => r.uri),
          [GRAPHS, schemaOf('common'), schemaOf('movies')],
        );
        for (const resource of listed.resources) {
          assert.equal(resource.mimeType, 'application/json');
          assert.ok(resource.name.length > 0);
        }
        assert.equal(listed.nextCursor, undefined);
        assert.doesNotMatch(JSON.stringify(listed), LEAK);
        const templates = await client.listResourceTemplates();
        assert.deepEqual(
          templates.resourceTemplates.map((t) => [t.uriTemplate, t.mimeType]),
          [['falkordb://graphs/{graph}/schema', 'application/json']],
        );
      });
    });

    it(`${kind}: reads A's graph list and A's schemas (its own "common", not B's), as the tools give them`, async () => {
      await withClient(kind, fx.readOnlyA, async (client) => {
        const list = await client.readResource({ uri: GRAPHS });
        assert.equal(list.contents[0]!.uri, GRAPHS);
        assert.equal(list.contents[0]!.mimeType, 'application/json');
        assert.deepEqual(json(list), { graphs: ['common', 'movies'] });
        const movies = json(await client.readResource({ uri: schemaOf('movies') }));
        assert.equal(movies['graph'], 'movies');
        assert.deepEqual((movies['labels'] as Array<{ name: string }>).map((l) => l.name).sort(), ['Movie', 'Person']);
        assert.deepEqual((movies['relationshipTypes'] as Array<{ name: string }>).map((t) => t.name), ['ACTED_IN']);
        assert.ok((movies['indexes'] as string[]).some((index) => index.startsWith('Movie.title')), JSON.stringify(movies['indexes']));
        const common = await client.readResource({ uri: schemaOf('common') });
        assert.deepEqual((json(common)['labels'] as Array<{ name: string }>).map((l) => l.name), ['ALabel']);
        assert.doesNotMatch(JSON.stringify([list, movies, common]), LEAK);
      });
    });

    it(`${kind}: reading B's graph fails exactly as reading a graph nobody has, naming nothing of B`, async () => {
      await withClient(kind, fx.readOnlyA, async (client) => {
        const theirs = await rpcFailure(client.readResource({ uri: schemaOf('secret-b') }));
        const nobody = await rpcFailure(client.readResource({ uri: schemaOf('never-made') }));
        assert.equal(theirs.code, -32602);
        assert.equal(theirs.code, nobody.code);
        assert.match(theirs.message, /does not exist/);
        assert.equal(withoutName(theirs.message, 'secret-b'), withoutName(nobody.message, 'never-made'));
        assert.deepEqual(theirs.data, { uri: schemaOf('secret-b') });
        assert.doesNotMatch(theirs.message, /content-b|content-a_|SecretB/);
      });
    });
  }
});

describe('resources of one caller', () => {
  it('the server\'s instructions name the resources and the prompts beside the tools', async () => {
    const client = await connectClient('http', fx.gateway.url, fx.readOnlyA);
    try {
      const instructions = client.getInstructions() ?? '';
      assert.match(instructions, /falkordb:\/\/graphs/);
      assert.match(instructions, /prompts/);
    } finally {
      await client.close();
    }
  });

  it('a schema read as a resource is what falkordb_graph_schema returns for the same graph', async () => {
    const tools = await connectClient('http', fx.gateway.url, fx.tokenA);
    const fromTool = await mustCall(tools, 'falkordb_graph_schema', { graphName: 'movies' });
    await tools.close();
    await withClient('v2 2025 /mcp', fx.tokenA, async (client) => {
      assert.deepEqual(json(await client.readResource({ uri: schemaOf('movies') })), fromTool);
    });
  });

  it('B sees its own graphs, and its own "common", never A\'s', async () => {
    await withClient('v2 2026-07-28 /mcp', fx.tokenB, async (client) => {
      assert.deepEqual(
        (await client.listResources()).resources.map((r) => r.uri),
        [GRAPHS, schemaOf('common'), schemaOf('secret-b')],
      );
      const common = json(await client.readResource({ uri: schemaOf('common') }));
      assert.deepEqual((common['labels'] as Array<{ name: string }>).map((l) => l.name), ['BLabel']);
      assert.doesNotMatch(JSON.stringify(common), /ALabel|aprop|movies/);
    });
  });

  it('refuses a URI that is none of its resources with resource-not-found, naming the resources it has', async () => {
    await withClient('v1 /mcp', fx.tokenA, async (client) => {
      for (const uri of ['test://static-text', 'falkordb://graphs/movies', 'falkordb://graphs/movies/schema/x', 'falkordb://other/movies/schema']) {
        const failure = await rpcFailure(client.readResource({ uri }));
        assert.equal(failure.code, -32602, uri);
        assert.deepEqual(failure.data, { uri }, uri);
        assert.match(failure.message, /no resource .* falkordb:\/\/graphs and falkordb:\/\/graphs\/\{graph\}\/schema/, uri);
      }
      const bad = await rpcFailure(client.readResource({ uri: 'falkordb://graphs/bad%20name/schema' }));
      assert.equal(bad.code, -32602);
      assert.match(bad.message, /not allowed: use 1 to 128 characters/);
    });
  });

  it('a token confined to some graphs lists and reads only those', async () => {
    const confined = await signTestToken(TENANT_A, { scope: 'read', claims: { graphs: ['movies'] } });
    await withClient('v2 2025 /mcp', confined, async (client) => {
      assert.deepEqual(
        (await client.listResources()).resources.map((r) => r.uri),
        [GRAPHS, schemaOf('movies')],
      );
      assert.deepEqual(json(await client.readResource({ uri: GRAPHS })), { graphs: ['movies'] });
      const refused = await rpcFailure(client.readResource({ uri: schemaOf('common') }));
      assert.equal(refused.code, -32600);
      assert.equal((refused.data as { code: string }).code, 'GRAPH_FORBIDDEN');
    });
  });

  it('lists a tenant of many graphs in pages of 100, each page after the last, and refuses a cursor it never gave', async () => {
    const tenant = 'content-many';
    const names = Array.from({ length: 130 }, (_, i) => `g${String(i).padStart(3, '0')}`);
    for (const name of names) await seedGraph(fx.gateway, tenant, name);
    const token = await signTestToken(tenant, { scope: 'read' });
    // The v1 client walks the pages itself.
    await withClient('v1 /mcp', token, async (client) => {
      const first = await client.listResources();
      assert.equal(first.resources.length, 101);
      assert.equal(first.resources[0]!.uri, GRAPHS);
      assert.ok(first.nextCursor !== undefined);
      const second = await client.listResources({ cursor: first.nextCursor! });
      assert.equal(second.nextCursor, undefined);
      assert.deepEqual(
        [...first.resources.slice(1), ...second.resources].map((r) => r.uri),
        names.map(schemaOf),
      );
      const bad = await rpcFailure(client.listResources({ cursor: 'not-a-cursor' }));
      assert.equal(bad.code, -32602);
      assert.match(bad.message, /cursor/);
    });
    // The v2 client, asked without a cursor, follows nextCursor to the end.
    await withClient('v2 2026-07-28 /mcp', token, async (client) => {
      assert.deepEqual(
        (await client.listResources()).resources.map((r) => r.uri),
        [GRAPHS, ...names.map(schemaOf)],
      );
    });
  });
});

describe('the 2026-07-28 revision on the wire', () => {
  async function modern(method: string, params: Record<string, unknown>, name?: string): Promise<Record<string, unknown>> {
    const response = await postModern(fx.gateway.url, fx.tokenA, method, params, name);
    assert.equal(response.status, 200);
    return ((await response.json()) as { result: Record<string, unknown> }).result;
  }

  it('says the graph list and the schemas may not be kept (they change with any write), and the template may be kept an hour, all private', async () => {
    const list = await modern('resources/list', {});
    assert.deepEqual([list['ttlMs'], list['cacheScope']], [0, 'private']);
    const read = await modern('resources/read', { uri: schemaOf('movies') }, schemaOf('movies'));
    assert.deepEqual([read['ttlMs'], read['cacheScope']], [0, 'private']);
    const templates = await modern('resources/templates/list', {});
    assert.deepEqual([templates['ttlMs'], templates['cacheScope']], [3_600_000, 'private']);
  });
});
