// completion/complete, through every kind of client: the graph argument of
// each prompt and of the schema template completes from the caller's own
// graphs only, by prefix, at most 100 values with `total` and `hasMore` right;
// an unknown prompt, template or argument is a clear error.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { CLIENT_KINDS, LEAK, rpcFailure, twoTenantGateway } from './support/content.js';
import { seedGraph } from './support/graphs.js';
import { signTestToken } from './support/tokens.js';

const fx = twoTenantGateway();
const { withClient } = fx;

const TEMPLATE = { type: 'ref/resource', uri: 'falkordb://graphs/{graph}/schema' } as const;
const prompt = (name: string) => ({ type: 'ref/prompt', name }) as const;

describe('completions, through every kind of client (tenant A with a read-only token, B beside it)', () => {
  for (const kind of CLIENT_KINDS) {
    it(`${kind}: completes graph names of prompts and of the schema template from A's graphs only`, async () => {
      await withClient(kind, fx.readOnlyA, async (client) => {
        assert.ok(client.getServerCapabilities()?.['completions'] !== undefined);
        for (const ref of [prompt('explore_graph'), prompt('write_cypher_query'), prompt('check_query'), TEMPLATE]) {
          const all = await client.complete({ ref, argument: { name: 'graph', value: '' } });
          assert.deepEqual(all.completion, { values: ['common', 'movies'], total: 2, hasMore: false }, JSON.stringify(ref));
        }
        const mo = await client.complete({ ref: prompt('explore_graph'), argument: { name: 'graph', value: 'MO' } });
        assert.deepEqual(mo.completion.values, ['movies']);
        // B has "secret-b": A gets nothing for its first letters.
        const theirs = await client.complete({ ref: TEMPLATE, argument: { name: 'graph', value: 'se' } });
        assert.deepEqual(theirs.completion, { values: [], total: 0, hasMore: false });
        assert.doesNotMatch(JSON.stringify([mo, theirs]), LEAK);
      });
    });
  }
});

describe('completions of one caller', () => {
  it('B completes to its own graphs', async () => {
    await withClient('v2 2026-07-28 /mcp', fx.tokenB, async (client) => {
      const all = await client.complete({ ref: TEMPLATE, argument: { name: 'graph', value: '' } });
      assert.deepEqual(all.completion.values, ['common', 'secret-b']);
    });
  });

  it('an argument that is not a graph name has no values', async () => {
    await withClient('v1 /mcp', fx.tokenA, async (client) => {
      const question = await client.complete({ ref: prompt('write_cypher_query'), argument: { name: 'question', value: 'How' } });
      assert.deepEqual(question.completion.values, []);
      const query = await client.complete({ ref: prompt('check_query'), argument: { name: 'query', value: 'MATCH' } });
      assert.deepEqual(query.completion.values, []);
    });
  });

  it('refuses an unknown prompt, template or argument with a clear invalid-params error', async () => {
    await withClient('v2 2025 /mcp', fx.tokenA, async (client) => {
      const noPrompt = await rpcFailure(client.complete({ ref: prompt('test_prompt_with_arguments'), argument: { name: 'arg1', value: 'x' } }));
      assert.equal(noPrompt.code, -32602);
      assert.match(noPrompt.message, /no prompt of that name.*explore_graph, write_cypher_query, check_query/);
      const noTemplate = await rpcFailure(client.complete({ ref: { type: 'ref/resource', uri: 'test://template/{id}/data' }, argument: { name: 'id', value: '1' } }));
      assert.equal(noTemplate.code, -32602);
      assert.match(noTemplate.message, /one resource template, falkordb:\/\/graphs\/\{graph\}\/schema/);
      const noArgument = await rpcFailure(client.complete({ ref: prompt('explore_graph'), argument: { name: 'depth', value: '' } }));
      assert.equal(noArgument.code, -32602);
      assert.match(noArgument.message, /explore_graph has no argument "depth"/);
      const noVariable = await rpcFailure(client.complete({ ref: TEMPLATE, argument: { name: 'id', value: '' } }));
      assert.match(noVariable.message, /one variable, graph/);
    });
  });

  it('offers at most 100 values of many, with the total and hasMore', async () => {
    const tenant = 'content-many';
    const names = Array.from({ length: 130 }, (_, i) => `g${String(i).padStart(3, '0')}`);
    for (const name of names) await seedGraph(fx.gateway, tenant, name);
    await seedGraph(fx.gateway, tenant, 'other');
    const token = await signTestToken(tenant, { scope: 'read' });
    await withClient('v2 2026-07-28 /mcp', token, async (client) => {
      const many = await client.complete({ ref: TEMPLATE, argument: { name: 'graph', value: 'g' } });
      assert.deepEqual(many.completion, { values: names.slice(0, 100), total: 130, hasMore: true });
      const few = await client.complete({ ref: TEMPLATE, argument: { name: 'graph', value: 'g12' } });
      assert.deepEqual(few.completion, { values: names.slice(120), total: 10, hasMore: false });
    });
  });
});
