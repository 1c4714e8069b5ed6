// Map keys in `parameters` as JSON data has them (hyphens, `@`, spaces, dots,
// unicode, quotes, text that reads like Cypher), through a real MCP client over
// /mcp on a real FalkorDB: each reaches the database and comes back exactly as
// it was sent, and none can end the parameter header early.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import type { RunningGateway } from '../src/main.js';
import { startTestFalkorDB, type TestFalkorDB } from './support/falkordb.js';
import { startTestGateway } from './support/gateway.js';
import { seedGraph } from './support/graphs.js';
import { callTool, connectClient, mustCall } from './support/mcp.js';
import { signTestToken } from './support/tokens.js';

let db: TestFalkorDB;
let gateway: RunningGateway;
let client: Client;

before(async () => {
  db = await startTestFalkorDB();
  gateway = await startTestGateway(db.url);
  client = await connectClient('http', gateway.url, await signTestToken('keys', { scope: 'read write admin' }));
  // A read never creates a graph, so the graph the reads use is made here.
  await seedGraph(gateway, 'keys', 'keys');
});

after(async () => {
  await client?.close();
  await gateway?.stop();
  await db?.cleanup();
});

type Row = Record<string, unknown>;

const KEYS: Array<[kind: string, key: string]> = [
  ['a hyphen', 'first-name'],
  ['an @', '@id'],
  ['spaces', 'date of birth'],
  ['a dot', 'address.city'],
  ['unicode', 'имя 名前 😀'],
  ['a double quote', 'say "hi"'],
  ['a single quote', "o'clock"],
  ['a backslash', 'C:\\path\\'],
  ['a colon, comma and braces', 'a:1,b}{'],
  ['a closing brace and a comment', 'a}) RETURN 1 //'],
  ['a leading digit', '1st'],
  ['a Cypher keyword', 'MATCH'],
  ['a newline and a tab', 'two\nlines\tand a tab'],
  ['__proto__', '__proto__'],
  ['the empty string', ''],
];

async function rows(query: string, parameters: Record<string, unknown>): Promise<Row[]> {
  return (await mustCall(client, 'falkordb_query', { graphName: 'keys', query, parameters })).rows as Row[];
}

describe('map keys in parameters', () => {
  for (const [kind, key] of KEYS) {
    it(`come back exactly as sent: a key with ${kind}`, async () => {
      const map = JSON.parse(`{${JSON.stringify(key)}: {${JSON.stringify(key)}: [1, ${JSON.stringify(key)}]}}`) as Record<string, unknown>;
      const [row] = await rows('RETURN $m AS m, keys($m) AS k, $m[$key][$key][1] AS inner', { m: map, key });
      assert.deepEqual(row?.k, [key]);
      assert.equal(row?.inner, key);
      assert.deepEqual(Object.keys(row?.m as object), [key]);
      assert.deepEqual(JSON.stringify(row?.m), JSON.stringify(map));
    });
  }

  it('are stored as node properties under exactly the keys sent, and read back so', async () => {
    const stored = KEYS.filter(([, key]) => key !== '');
    const doc = JSON.parse(`{${stored.map(([, key], i) => `${JSON.stringify(key)}: ${i}`).join(',')}}`) as Record<string, unknown>;
    await rows('CREATE (d:Doc) SET d = $doc', { doc });
    const [row] = await rows('MATCH (d:Doc) RETURN properties(d) AS p, d AS node', {});
    const sentKeys = Object.keys(doc).sort();
    assert.deepEqual(Object.keys(row?.p as object).sort(), sentKeys);
    assert.deepEqual(Object.keys((row?.node as { properties: object }).properties).sort(), sentKeys);
    for (const [i, [, key]] of stored.entries()) assert.equal((row?.p as Row)[key], i, `property ${JSON.stringify(key)}`);
  });

  it('cannot end the parameter header: keys written as Cypher run nothing', async () => {
    await rows('CREATE (:Keep {n: 1})', {});
    const attacks = [
      'a`: 1} MATCH (n) DETACH DELETE n //',
      'a}) MATCH (n) DETACH DELETE n //',
      'x} m2={y:1} MATCH (n) DETACH DELETE n RETURN 1 //',
      '`} MATCH (n) DETACH DELETE n //',
      'a\u0000} MATCH (n) DETACH DELETE n //',
    ];
    for (const attack of attacks) {
      const out = await callTool(client, 'falkordb_query', { graphName: 'keys', query: 'RETURN keys($m) AS k', parameters: { m: { [attack]: 1 } } });
      if (out.ok) assert.deepEqual((out.structured?.rows as Row[])[0]?.k, [attack], `the key ${JSON.stringify(attack)} stays one key`);
      else assert.equal(out.error?.code, 'PARAMETERS_INVALID', out.text);
    }
    const [left] = await rows('MATCH (n:Keep) RETURN count(n) AS n', {});
    assert.equal(left?.n, 1);
  });

  it('are refused with PARAMETERS_INVALID when they hold a backtick, which FalkorDB cannot read in a key', async () => {
    const out = await callTool(client, 'falkordb_query', { graphName: 'keys', query: 'RETURN $m AS m', parameters: { m: [{ 'a`b': 1 }] } });
    assert.equal(out.ok, false);
    assert.equal(out.error?.code, 'PARAMETERS_INVALID');
    assert.match(out.error?.message ?? '', /backtick/);
  });

  it('are refused when they hold half of a surrogate pair, which would reach the database as another key', async () => {
    const out = await callTool(client, 'falkordb_query', { graphName: 'keys', query: 'RETURN $m AS m', parameters: { m: { 'a\ud800b': 1, 'a\ud801b': 2 } } });
    assert.equal(out.error?.code, 'PARAMETERS_INVALID', out.text);
    assert.match(out.error?.message ?? '', /surrogate/);
  });

  it('do not change what parameter names may be: still identifiers only', async () => {
    const out = await callTool(client, 'falkordb_query', { graphName: 'keys', query: 'RETURN 1', parameters: { 'first-name': 1 } });
    assert.equal(out.error?.code, 'PARAMETERS_INVALID');
  });
});

describe('text FalkorDB cannot take as sent', () => {
  it('refuses a parameter value holding a NUL, which would cut the query short, without showing the value', async () => {
    const out = await callTool(client, 'falkordb_query', { graphName: 'keys', query: 'RETURN $v AS v', parameters: { v: 'secret-\u0000-value' } });
    assert.equal(out.error?.code, 'PARAMETERS_INVALID', out.text);
    assert.match(out.error?.message ?? '', /NUL/);
    assert.doesNotMatch(out.text, /secret/);
  });

  it('refuses a parameter value holding half of a surrogate pair, which would be stored as U+FFFD', async () => {
    const out = await callTool(client, 'falkordb_query', { graphName: 'keys', query: 'RETURN $v AS v', parameters: { v: ['ok', 'secret\ud800'] } });
    assert.equal(out.error?.code, 'PARAMETERS_INVALID', out.text);
    assert.match(out.error?.message ?? '', /surrogate/);
    assert.doesNotMatch(out.text, /secret/);
  });

  it('refuses a query holding a NUL in every query tool, as only the text before it would run', async () => {
    for (const tool of ['falkordb_query', 'falkordb_read_query', 'falkordb_explain']) {
      const out = await callTool(client, tool, { graphName: 'keys', query: 'RETURN 1 AS a\u0000, 2 AS b' });
      assert.equal(out.error?.code, 'INVALID_ARGUMENT', `${tool}: ${out.text}`);
      assert.match(out.error?.message ?? '', /NUL/);
    }
  });

  it('still takes every other text as sent: backslashes, quotes and astral characters', async () => {
    const v = 'tail\\ "quoted" \ud83d\ude00';
    const [row] = await rows('RETURN $v AS v', { v });
    assert.equal(row?.v, v);
  });
});
