// The prompts, through every kind of client: each listed with its arguments,
// each getting the schema of the caller's own graph embedded, and clear errors
// for a missing or unknown argument, an unknown prompt, and a graph the caller
// does not have (another tenant's looks the same as one nobody has).

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { CLIENT_KINDS, LEAK, rpcFailure, twoTenantGateway } from './support/content.js';

const fx = twoTenantGateway({ MAX_QUERY_LENGTH: '2000' });
const { withClient } = fx;

type Message = { role: string; content: Record<string, unknown> };

function textOf(messages: Message[]): string {
  const texts = messages.filter((m) => m.content['type'] === 'text').map((m) => m.content['text'] as string);
  assert.equal(texts.length, 1);
  return texts[0]!;
}

/** The schema a prompt embeds: its resource's URI and parsed JSON. */
function embeddedSchema(messages: Message[]): { uri: string; mimeType: unknown; schema: Record<string, unknown> } {
  const resources = messages.filter((m) => m.content['type'] === 'resource').map((m) => m.content['resource'] as { uri: string; mimeType?: string; text: string });
  assert.equal(resources.length, 1);
  return { uri: resources[0]!.uri, mimeType: resources[0]!.mimeType, schema: JSON.parse(resources[0]!.text) as Record<string, unknown> };
}

const labelsOf = (schema: Record<string, unknown>) => (schema['labels'] as Array<{ name: string }>).map((l) => l.name).sort();
const withoutName = (message: string, graph: string) => message.split(graph).join('<graph>');

describe('prompts, through every kind of client (tenant A with a read-only token, B beside it)', () => {
  for (const kind of CLIENT_KINDS) {
    it(`${kind}: declares prompts and lists explore_graph, write_cypher_query and check_query with their arguments`, async () => {
      await withClient(kind, fx.readOnlyA, async (client) => {
        assert.ok(client.getServerCapabilities()?.['prompts'] !== undefined);
        const { prompts } = await client.listPrompts();
        assert.deepEqual(
          prompts.map((p) => [p.name, (p.arguments ?? []).map((a) => `${a.name}${a.required === true ? '' : '?'}`)]),
          [
            ['explore_graph', ['graph']],
            ['write_cypher_query', ['graph', 'question']],
            ['check_query', ['graph', 'query']],
          ],
        );
        for (const prompt of prompts) assert.ok((prompt.description ?? '').length > 20, prompt.name);
      });
    });

    it(`${kind}: write_cypher_query embeds the schema of A's own "common" (not B's) and carries the question`, async () => {
      await withClient(kind, fx.readOnlyA, async (client) => {
        const { messages } = await client.getPrompt({ name: 'write_cypher_query', arguments: { graph: 'common', question: 'How many ALabel nodes are there?' } });
        assert.ok(messages.every((m) => m.role === 'user'));
        assert.match(textOf(messages), /How many ALabel nodes are there\?/);
        assert.match(textOf(messages), /falkordb_explain/);
        const { uri, mimeType, schema } = embeddedSchema(messages);
        assert.equal(uri, 'falkordb://graphs/common/schema');
        assert.equal(mimeType, 'application/json');
        assert.deepEqual(labelsOf(schema), ['ALabel']);
        assert.doesNotMatch(JSON.stringify(messages), LEAK);
      });
    });

    it(`${kind}: a prompt for B's graph fails exactly as one for a graph nobody has`, async () => {
      await withClient(kind, fx.readOnlyA, async (client) => {
        const theirs = await rpcFailure(client.getPrompt({ name: 'explore_graph', arguments: { graph: 'secret-b' } }));
        const nobody = await rpcFailure(client.getPrompt({ name: 'explore_graph', arguments: { graph: 'never-made' } }));
        assert.equal(theirs.code, -32602);
        assert.equal(theirs.code, nobody.code);
        assert.match(theirs.message, /does not exist/);
        assert.equal(withoutName(theirs.message, 'secret-b'), withoutName(nobody.message, 'never-made'));
        assert.doesNotMatch(theirs.message, /content-b|content-a_|SecretB/);
      });
    });
  }
});

describe('prompts of one caller', () => {
  it('explore_graph embeds the whole schema of the graph, labels, relationship types and indexes', async () => {
    await withClient('v2 2026-07-28 /mcp', fx.tokenA, async (client) => {
      const { messages } = await client.getPrompt({ name: 'explore_graph', arguments: { graph: 'movies' } });
      assert.match(textOf(messages), /"movies"/);
      assert.match(textOf(messages), /falkordb_read_query/);
      const { schema } = embeddedSchema(messages);
      assert.deepEqual(labelsOf(schema), ['Movie', 'Person']);
      assert.deepEqual((schema['relationshipTypes'] as Array<{ name: string }>).map((t) => t.name), ['ACTED_IN']);
      assert.ok((schema['indexes'] as string[]).some((index) => index.startsWith('Movie.title')));
    });
  });

  it('check_query carries the query and asks for falkordb_explain before it runs', async () => {
    await withClient('v1 /mcp', fx.tokenA, async (client) => {
      const query = 'MATCH (m:Movie)<-[:ACTED_IN]-(p:Person) RETURN m.title, p.name';
      const { messages } = await client.getPrompt({ name: 'check_query', arguments: { graph: 'movies', query } });
      assert.ok(textOf(messages).includes(query));
      assert.match(textOf(messages), /falkordb_explain with graphName "movies"/);
      assert.deepEqual(labelsOf(embeddedSchema(messages).schema), ['Movie', 'Person']);
    });
  });

  it('B gets its own "common" in a prompt, never A\'s', async () => {
    await withClient('v2 2025 /mcp', fx.tokenB, async (client) => {
      const { messages } = await client.getPrompt({ name: 'explore_graph', arguments: { graph: 'common' } });
      assert.deepEqual(labelsOf(embeddedSchema(messages).schema), ['BLabel']);
      assert.doesNotMatch(JSON.stringify(messages), /ALabel|aprop|movies/);
    });
  });

  it('says which argument is missing, which one it does not know, and which prompts there are', async () => {
    await withClient('v2 2025 /mcp', fx.tokenA, async (client) => {
      const missing = await rpcFailure(client.getPrompt({ name: 'write_cypher_query', arguments: { graph: 'movies' } }));
      assert.equal(missing.code, -32602);
      assert.match(missing.message, /needs the argument question/);
      const blank = await rpcFailure(client.getPrompt({ name: 'explore_graph', arguments: { graph: '  ' } }));
      assert.match(blank.message, /needs the argument graph/);
      const unknown = await rpcFailure(client.getPrompt({ name: 'explore_graph', arguments: { graph: 'movies', depth: '3' } }));
      assert.equal(unknown.code, -32602);
      assert.match(unknown.message, /explore_graph has no argument "depth"; its arguments are graph/);
      const noPrompt = await rpcFailure(client.getPrompt({ name: 'test_simple_prompt' }));
      assert.equal(noPrompt.code, -32602);
      assert.match(noPrompt.message, /no prompt of that name.*explore_graph, write_cypher_query, check_query/);
      const badName = await rpcFailure(client.getPrompt({ name: 'explore_graph', arguments: { graph: 'bad name' } }));
      assert.match(badName.message, /not allowed: use 1 to 128 characters/);
      const long = await rpcFailure(client.getPrompt({ name: 'check_query', arguments: { graph: 'movies', query: 'RETURN 1 '.repeat(300) } }));
      assert.match(long.message, /query: 2700 characters long; the limit is 2000/);
    });
  });
});
