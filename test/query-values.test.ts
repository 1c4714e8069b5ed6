// What values falkordb_query returns, through a real MCP client over /mcp on a
// real FalkorDB: floats exact to the last bit wherever they sit, one JSON form
// for NaN and the infinities, temporal values that keep their meaning, and the
// README's value table as the code produces it.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import type { RunningGateway } from '../src/main.js';
import { startTestFalkorDB, type TestFalkorDB } from './support/falkordb.js';
import { startTestGateway } from './support/gateway.js';
import { seedGraph } from './support/graphs.js';
import { callTool, connectClient, mustCall, REPO_ROOT } from './support/mcp.js';
import { signTestToken } from './support/tokens.js';

let db: TestFalkorDB;
let gateway: RunningGateway;
let client: Client;

before(async () => {
  db = await startTestFalkorDB();
  gateway = await startTestGateway(db.url);
  client = await connectClient('http', gateway.url, await signTestToken('values', { scope: 'read write admin' }));
  // A read never creates a graph, so the graphs that only reads use are made here.
  await seedGraph(gateway, 'values', 'values');
});

after(async () => {
  await client?.close();
  await gateway?.stop();
  await db?.cleanup();
});

type Row = Record<string, unknown>;

async function rows(query: string, graphName = 'values', readOnly?: boolean): Promise<Row[]> {
  const out = await mustCall(client, 'falkordb_query', { graphName, query, ...(readOnly === undefined ? {} : { readOnly }) });
  return out.rows as Row[];
}

/** Object.is on every double, so 0.14285714285714285 and 0.142857142857143 differ. */
function assertSameBits(actual: unknown, expected: number, what: string): void {
  assert.ok(typeof actual === 'number' && Object.is(actual, expected), `${what}: got ${String(actual)}, want ${expected}`);
}

describe('floats in tool results', () => {
  it('keep FalkorDB\'s 15 printed digits, from one run of the query, with EXACT_FLOATS=false', async () => {
    const plain = await startTestGateway(db.url, { EXACT_FLOATS: 'false' });
    const c = await connectClient('http', plain.url, await signTestToken('values-plain'));
    try {
      const [row] = (await mustCall(c, 'falkordb_query', { graphName: 'g', query: 'CREATE (n:Run) RETURN toFloat(1) / 7 AS seventh' })).rows as Row[];
      assertSameBits(row?.seventh, 0.142857142857143, 'toFloat(1) / 7 as printed');
      // A read-only query too: with the second run turned off nothing rebuilds the digits FalkorDB printed.
      const [again] = (await mustCall(c, 'falkordb_query', { graphName: 'g', query: 'MATCH (n:Run) RETURN count(n) AS runs, toFloat(1) / 7 AS seventh', readOnly: true })).rows as Row[];
      assert.equal(again?.runs, 1);
      assertSameBits(again?.seventh, 0.142857142857143, 'toFloat(1) / 7 as printed, read-only');
    } finally {
      await c.close();
      await plain.stop();
    }
  });

  it('are exact to the last bit, also in the text block, with and without readOnly', async () => {
    for (const readOnly of [undefined, true]) {
      const outcome = await callTool(client, 'falkordb_query', {
        graphName: 'values',
        query: 'RETURN toFloat(1) / 7 AS seventh, 2.0 ^ 53 AS big, 0.1 + 0.2 AS sum, 2.0 ^ -1074 AS tiny, 2.0 ^ 1023 * (2 - 2.0 ^ -52) AS max, -1.0 / 3 AS third',
        ...(readOnly === undefined ? {} : { readOnly }),
      });
      assert.equal(outcome.ok, true, outcome.text);
      const [row] = outcome.structured?.rows as Row[];
      assertSameBits(row?.seventh, 1 / 7, 'toFloat(1) / 7');
      assertSameBits(row?.big, 2 ** 53, '2^53');
      assertSameBits(row?.sum, 0.1 + 0.2, '0.1 + 0.2');
      assertSameBits(row?.tiny, 5e-324, '2^-1074');
      assertSameBits(row?.max, Number.MAX_VALUE, 'the largest double');
      assertSameBits(row?.third, -1 / 3, '-1/3');
      assert.deepEqual(outcome.structured?.columns, ['seventh', 'big', 'sum', 'tiny', 'max', 'third']);
      assert.match(outcome.text, /"seventh":0\.14285714285714285[,}]/);
    }
  });

  it('are exact inside lists, maps, node and relationship properties and paths', async () => {
    await rows("CREATE (:Float {name: 'a', f: toFloat(1) / 7, l: [toFloat(2) / 3, 1]})-[:R {w: 0.1 + 0.7}]->(:Float {name: 'b', f: toFloat(1) / 3})");
    const [row] = await rows(
      "MATCH p = (a:Float {name: 'a'})-[r:R]->(b) RETURN [toFloat(1) / 3, [toFloat(2) / 3]] AS list, {x: toFloat(1) / 7, y: [0.1 + 0.2]} AS map, a, r, p, collect(b) AS nodes, [a.f] AS fs ORDER BY a.f",
    );
    const list = row?.list as [number, [number]];
    assertSameBits(list[0], 1 / 3, 'list element');
    assertSameBits(list[1][0], 2 / 3, 'element of a nested list');
    const map = row?.map as { x: number; y: [number] };
    assertSameBits(map.x, 1 / 7, 'map value');
    assertSameBits(map.y[0], 0.1 + 0.2, 'list in a map');
    const a = row?.a as { properties: { f: number; l: [number, number] } };
    assertSameBits(a.properties.f, 1 / 7, 'node property');
    assertSameBits(a.properties.l[0], 2 / 3, 'list in a node property');
    assert.equal(a.properties.l[1], 1);
    assertSameBits((row?.r as { properties: { w: number } }).properties.w, 0.1 + 0.7, 'relationship property');
    const p = row?.p as { nodes: Array<{ properties: { f: number } }>; relationships: Array<{ properties: { w: number } }> };
    assertSameBits(p.nodes[0]?.properties.f, 1 / 7, 'first node of a path');
    assertSameBits(p.nodes[1]?.properties.f, 1 / 3, 'last node of a path');
    assertSameBits(p.relationships[0]?.properties.w, 0.1 + 0.7, 'relationship of a path');
    assertSameBits((row?.nodes as Array<{ properties: { f: number } }>)[0]?.properties.f, 1 / 3, 'node in a list');
    assertSameBits((row?.fs as number[])[0], 1 / 7, 'list of a property');
  });

  it('are exact with DISTINCT, ORDER BY, LIMIT, aggregation and UNION, and rows stay as they were', async () => {
    const ordered = await rows('UNWIND [3, 1, 2, 1] AS i RETURN DISTINCT toFloat(i) / 7 AS f ORDER BY f DESC LIMIT 2');
    assert.equal(ordered.length, 2);
    assertSameBits(ordered[0]?.f, 3 / 7, 'first ordered row');
    assertSameBits(ordered[1]?.f, 2 / 7, 'second ordered row');
    const [grouped] = await rows('UNWIND [1, 2] AS i RETURN count(i) AS n, avg(toFloat(i) / 7) AS mean');
    assert.equal(grouped?.n, 2);
    assertSameBits(grouped?.mean, (1 / 7 + 2 / 7) / 2, 'avg');
    const union = await rows('RETURN toFloat(1) / 7 AS f UNION ALL RETURN toFloat(1) / 3 AS f');
    assertSameBits(union[0]?.f, 1 / 7, 'first UNION branch');
    assertSameBits(union[1]?.f, 1 / 3, 'second UNION branch');
  });

  it('never runs a query that writes twice', async () => {
    const out = await mustCall(client, 'falkordb_query', { graphName: 'writes', query: 'CREATE (n:W {f: toFloat(1) / 7}) RETURN n.f AS f' });
    assert.equal((out.stats as Record<string, number>).nodesCreated, 1);
    const [count] = await rows('MATCH (n:W) RETURN count(n) AS n', 'writes');
    assert.equal(count?.n, 1);
    const [stored] = await rows('MATCH (n:W) RETURN n.f AS f', 'writes');
    assertSameBits(stored?.f, 1 / 7, 'the stored float, read back');
  });
});

describe('NaN, infinities and -0', () => {
  it('come back as {"$float": name}, the form tenant export writes, wherever they sit', async () => {
    const [row] = await rows('RETURN 0.0 / 0.0 AS nan, 1.0 / 0.0 AS inf, -1.0 / 0.0 AS ninf, -0.0 AS nzero, [0.0 / 0.0, 1.0 / 0.0] AS list, {x: -1.0 / 0.0} AS map, 0.0 AS zero');
    assert.deepEqual(row, {
      nan: { $float: 'NaN' },
      inf: { $float: 'Infinity' },
      ninf: { $float: '-Infinity' },
      nzero: { $float: '-0' },
      list: [{ $float: 'NaN' }, { $float: 'Infinity' }],
      map: { x: { $float: '-Infinity' } },
      zero: 0,
    });
  });
});

describe('temporal values and points', () => {
  it('keep their meaning: local date-times without a zone, durations with their years and months', async () => {
    const [row] = await rows(
      "RETURN localdatetime('2024-05-06T07:08:09') AS ldt, date('2024-05-06') AS d, date('0005-01-01') AS early, localtime('07:08:09') AS t, duration('P1Y2M3DT4H5M6S') AS dur, duration('P14M') AS months, duration('PT0S') AS none, point({latitude: 1.1, longitude: -2.2}) AS pt",
    );
    assert.deepEqual(row, {
      ldt: '2024-05-06T07:08:09',
      d: '2024-05-06',
      early: '0005-01-01',
      t: '07:08:09',
      dur: 'P1Y2M3DT4H5M6S',
      months: 'P1Y2M',
      none: 'PT0S',
      pt: { latitude: Math.fround(1.1), longitude: Math.fround(-2.2) },
    });
  });

  it('come back the same as node properties, read through the schema-aware path', async () => {
    await rows("CREATE (:When {at: localdatetime('2024-05-06T07:08:09'), dur: duration('P1Y2M3DT4H5M6S')})", 'when');
    const [row] = await rows('MATCH (n:When) RETURN n', 'when');
    assert.deepEqual((row?.n as { properties: unknown }).properties, { at: '2024-05-06T07:08:09', dur: 'P1Y2M3DT4H5M6S' });
    const schema = await mustCall(client, 'falkordb_graph_schema', { graphName: 'when' });
    assert.deepEqual((schema.labels as Array<{ name: string }>).map((l) => l.name), ['When']);
    assert.deepEqual([...(schema.propertyKeys as string[])].sort(), ['at', 'dur']);
  });
});

describe("README's value table", () => {
  const readme = readFileSync(path.join(REPO_ROOT, 'README.md'), 'utf8');
  const table = /<!-- value-mapping.*?-->\n([\s\S]*?)<!-- \/value-mapping -->/.exec(readme)?.[1] ?? '';
  const examples = table
    .split('\n')
    .slice(2)
    .filter((line) => line.startsWith('|'))
    .map((line) => {
      const [, type = '', example = '', form = ''] = line.split(/\s*\|\s*/);
      return { type, example: /`(.*?)`/.exec(example)?.[1] ?? '', form: /`(.*?)`/.exec(form)?.[1] ?? '' };
    });

  it('has an example in every row', () => {
    assert.ok(examples.length >= 10, 'the table is found');
    for (const e of examples) assert.ok(e.example !== '' && e.form !== '', `row ${e.type}`);
  });

  it('shows what the code returns for each example', async () => {
    for (const { type, example, form } of examples) {
      const [row] = await rows(`RETURN ${example} AS v`);
      assert.deepEqual(row?.v, JSON.parse(form), `${type}: RETURN ${example}`);
    }
  });
});
