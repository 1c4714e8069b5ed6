// `tenant export` and `tenant import` against real FalkorDBs: exact round trips
// (counts, every value and its type, labels, indexes, constraints), moving a
// tenant to another server under a new id, conflicts, broken files, and tenant
// isolation of exports and of the scratch graphs an import loads into.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import fc from 'fast-check';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { connectDatabase } from '../src/falkordb/connection.js';
import type { Database, RespValue } from '../src/falkordb/database.js';
import { GraphClient } from '../src/falkordb/graphs.js';
import type { RunningGateway } from '../src/main.js';
import { parseTenantGraphKey, tenantGraphKey, tenantKeyPrefix } from '../src/tenancy/keys.js';
import { floatLiteral } from '../src/transfer/encode.js';
import { plainCell } from '../src/transfer/server.js';
import { exportTenant } from '../src/transfer/export.js';
import type { TransferRecord } from '../src/transfer/format.js';
import { importTenant } from '../src/transfer/import.js';
import { newTransferRunId, scratchGraphKey } from '../src/transfer/scratch-key.js';
import { rejection } from './support/assertions.js';
import { runCli, runCliJson } from './support/cli.js';
import { startTestFalkorDB, testLogger, type TestFalkorDB } from './support/falkordb.js';
import { startTestGateway } from './support/gateway.js';
import { tempDir } from './support/keys.js';
import { connectClient, mustCall } from './support/mcp.js';
import { TEST_SECRET, signTestToken } from './support/tokens.js';

let s1: TestFalkorDB;
let s2: TestFalkorDB;
let db1: Database;
let db2: Database;
let dir: string;
let env1: Record<string, string>;
let env2: Record<string, string>;
const clients: Client[] = [];
let gateway: RunningGateway | undefined;

before(async () => {
  [s1, s2] = await Promise.all([startTestFalkorDB(), startTestFalkorDB()]);
  const logger = testLogger();
  [db1, db2] = await Promise.all([connectDatabase({ url: s1.url, connectTimeoutMs: 5000, logger }), connectDatabase({ url: s2.url, connectTimeoutMs: 5000, logger })]);
  dir = await tempDir('transfer-');
  env1 = { FALKORDB_URL: s1.url, AUTH_JWT_SECRET: TEST_SECRET, LOG_LEVEL: 'silent' };
  env2 = { FALKORDB_URL: s2.url, AUTH_JWT_SECRET: TEST_SECRET, LOG_LEVEL: 'silent' };
});

after(async () => {
  await Promise.allSettled(clients.map((c) => c.close()));
  await gateway?.stop();
  await Promise.allSettled([db1?.close(), db2?.close()]);
  await Promise.allSettled([s1?.cleanup(), s2?.cleanup()]);
});

/** Rows of a query as plain values (lists, maps, numbers with 15 digits, booleans). */
async function query(db: Database, key: string, text: string): Promise<unknown[][]> {
  const reply = await db.sendCommand(['GRAPH.QUERY', key, text, '--compact']);
  const rows = Array.isArray(reply) && Array.isArray(reply[1]) ? (reply[1] as RespValue[][]) : [];
  return rows.map((row) => row.map(plainCell));
}

/** The single value of a one-row, one-column query. */
async function scalar(db: Database, key: string, text: string): Promise<unknown> {
  const rows = await query(db, key, text);
  return rows[0]?.[0] ?? null;
}

async function keysMatching(db: Database, pattern: string): Promise<string[]> {
  return (await db.sendCommand(['KEYS', pattern])) as string[];
}

async function readRecords(file: string): Promise<TransferRecord[]> {
  return (await readFile(file, 'utf8')).split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as TransferRecord);
}

/** Records as one export sees them: header without its time, relationships, indexes and constraints in a fixed order. */
function comparable(records: TransferRecord[]): unknown[] {
  const sortKey = (r: TransferRecord) => JSON.stringify(r, Object.keys(r).sort());
  const out: unknown[] = [];
  let bucket: TransferRecord[] = [];
  const flush = () => {
    out.push(...bucket.sort((a, b) => sortKey(a).localeCompare(sortKey(b))));
    bucket = [];
  };
  for (const r of records) {
    if (r.kind === 'header') out.push({ ...r, createdAt: undefined, tenant: undefined });
    else if (r.kind === 'relationship' || r.kind === 'index' || r.kind === 'constraint') bucket.push(r);
    else {
      flush();
      out.push(r);
    }
  }
  flush();
  return out;
}

async function exportInProcess(db: Database, tenant: string, file: string, patterns?: string[]): Promise<TransferRecord[]> {
  const records: TransferRecord[] = [];
  await exportTenant({ db, graphs: new GraphClient(db), tenant, patterns, write: async (r) => void records.push(r), batchSize: 700 });
  await writeFile(file, records.map((r) => `${JSON.stringify(r)}\n`).join(''));
  return records;
}

async function schemaOf(db: Database, key: string): Promise<unknown> {
  const indexes = await query(db, key, 'CALL db.indexes() YIELD label, properties, types, options, language, stopwords, entitytype RETURN label, properties, types, options, language, stopwords, entitytype ORDER BY entitytype, label');
  const constraints = await query(db, key, 'CALL db.constraints() YIELD type, label, properties, entitytype, status RETURN type, label, properties, entitytype, status ORDER BY type, label');
  return { indexes, constraints };
}

async function waitOperational(db: Database, key: string): Promise<void> {
  for (let i = 0; i < 200; i += 1) {
    const statuses = [...(await query(db, key, 'CALL db.indexes() YIELD status RETURN status')), ...(await query(db, key, 'CALL db.constraints() YIELD status RETURN status'))].flat();
    if (statuses.every((s) => s === 'OPERATIONAL')) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`indexes of ${key} never became operational`);
}

describe('a graph of 100k nodes moved to another server under a new tenant id', () => {
  const source = tenantGraphKey('bulk', 'big');
  const file = () => path.join(dir, 'bulk.jsonl');

  before(async () => {
    await query(db1, source, "UNWIND range(0, 99999) AS i CREATE (:Item {i: i, f: i / 7.0, s: 'n' + toString(i), tags: [i % 7, toString(i % 3)], flag: i % 2 = 0})");
    await query(db1, source, 'UNWIND range(0, 99998) AS i WITH i AS s, i + 1 AS t MATCH (a), (b) WHERE id(a) = s AND id(b) = t CREATE (a)-[:NEXT {w: s / 3.0}]->(b)');
    await query(db1, source, 'MATCH (n:Item) WHERE n.i % 10000 = 0 SET n:Hub');
    // Deleted nodes leave gaps in the ids, which the import must keep.
    await query(db1, source, 'MATCH (n:Item) WHERE n.i IN [5, 500, 50000] DETACH DELETE n');
    await query(db1, source, 'CREATE INDEX FOR (n:Item) ON (n.i)');
    await db1.sendCommand(['GRAPH.CONSTRAINT', 'CREATE', source, 'UNIQUE', 'NODE', 'Item', 'PROPERTIES', '1', 'i']);
    await waitOperational(db1, source);
  });

  it('exports and imports with the CLI, and the copy is exact', async () => {
    const exported = await runCliJson<{ graphs: Array<{ name: string; nodes: number; relationships: number }> }>(['tenant', 'export', 'bulk', '--out', file(), '--json'], env1);
    assert.deepEqual(exported.graphs.map((g) => [g.name, g.nodes, g.relationships]), [['big', 99997, 99993]]);
    const imported = await runCliJson<{ tenant: string; graphs: unknown[] }>(['tenant', 'import', 'bulk', '--in', file(), '--rename-tenant', 'moved', '--json'], env2);
    assert.equal(imported.tenant, 'moved');

    const target = tenantGraphKey('moved', 'big');
    // Checked by the server itself: every float equals the expression that made it, bit for bit.
    assert.equal(await scalar(db2, target, 'MATCH (n:Item) RETURN count(n)'), 99997);
    assert.equal(await scalar(db2, target, 'MATCH (n:Item) WHERE n.f <> n.i / 7.0 OR typeOf(n.f) <> "Float" OR typeOf(n.i) <> "Integer" RETURN count(n)'), 0);
    assert.equal(await scalar(db2, target, "MATCH (n:Item) WHERE n.s <> 'n' + toString(n.i) OR n.tags <> [n.i % 7, toString(n.i % 3)] OR n.flag <> (n.i % 2 = 0) RETURN count(n)"), 0);
    assert.equal(await scalar(db2, target, 'MATCH (n:Item) WHERE id(n) <> n.i RETURN count(n)'), 0);
    assert.equal(await scalar(db2, target, 'MATCH (a)-[e:NEXT]->(b) WHERE e.w <> a.i / 3.0 OR b.i <> a.i + 1 RETURN count(e)'), 0);
    assert.equal(await scalar(db2, target, 'MATCH ()-[e]->() RETURN count(e)'), 99993);
    assert.deepEqual(await query(db2, target, 'MATCH (n:Hub) RETURN n.i ORDER BY n.i'), [0, 10000, 20000, 30000, 40000, 60000, 70000, 80000, 90000].map((i) => [i]));
    assert.equal(await scalar(db2, target, "MATCH (n) WHERE labels(n) <> ['Item'] AND labels(n) <> ['Item', 'Hub'] OR size(keys(n)) <> 5 RETURN count(n)"), 0);
    assert.equal(await scalar(db2, target, 'MATCH ()-[e]->() WHERE type(e) <> "NEXT" OR keys(e) <> ["w"] RETURN count(e)'), 0);
    assert.deepEqual(await schemaOf(db2, target), await schemaOf(db1, source));
  });

  it('the new tenant sees the graph through the gateway; the old tenant keeps its own, and the scratch graphs are never listed', async () => {
    // A scratch graph of a run in progress, which the tenant must not see.
    const scratch = scratchGraphKey(newTransferRunId(), tenantGraphKey('moved', 'half_loaded'));
    await db2.sendCommand(['GRAPH.COPY', tenantGraphKey('moved', 'big'), scratch]);
    try {
      gateway = await startTestGateway(s2.url);
      const client = await connectClient('http', gateway.url, await signTestToken('moved'));
      clients.push(client);
      assert.deepEqual((await mustCall(client, 'falkordb_list_graphs')).graphs, ['big']);
      const result = await mustCall(client, 'falkordb_query', { graphName: 'big', query: 'MATCH (n:Item {i: 7}) RETURN n.f AS f, n.s AS s' });
      assert.deepEqual(result.rows, [{ f: 1, s: 'n7' }]);
    } finally {
      await db2.sendCommand(['GRAPH.DELETE', scratch]);
    }
    assert.equal(await scalar(db1, source, 'MATCH (n) RETURN count(n)'), 99997);
    assert.deepEqual(await keysMatching(db2, `${tenantKeyPrefix('bulk')}*`), []);
  });
});

describe('every property type', () => {
  const typed = (graph: string) => tenantGraphKey('typed', graph);
  const file = () => path.join(dir, 'typed.jsonl');
  const doubles = fc.sample(fc.double({ noNaN: true, noDefaultInfinity: true }).filter((d) => d === 0 || Math.abs(d) >= 1e-300), { numRuns: 300, seed: 42 });

  before(async () => {
    await query(
      db1,
      typed('types_a'),
      `CREATE (a:Person:\`Ü x-y\` {i: 1, big: 9223372036854775807, neg: -9007199254740993, f: 1.0, f2: 0.1 + 0.2, f3: 1.0 / 3.0, nan: 0.0 / 0.0, inf: 1.0 / 0.0, ninf: -1.0 / 0.0, nz: -0.0,
        tiny: 1e-300 * 1e-10, huge: 1.7976931348623157e308, s: 'q"b\\\\n\\\\ \`x ü 😀', e: '', b: true, b2: false,
        arr: [1, 2.5, 'a', [true, [0.1 + 0.2]]], floats: [0.1 + 0.2, 1.0 / 3.0], mixed: [1, point({latitude: 1.5, longitude: -2.25}), date('2024-01-02'), 0.0 / 0.0],
        p: point({latitude: 0.1, longitude: 0.2}), dt: localdatetime('2024-01-02T03:04:05'), d: date('1800-03-04'), t: localtime('23:59:59'),
        du: duration('P1Y2M3DT4H5M6S'), du0: duration('PT0S'), v: vecf32([1.5, 0.1, -3.25]), \`weird key\`: 'w'})
       -[:KNOWS {since: 2020, w: 0.1 + 0.7, ws: [[0.1 + 0.2, 1.0 / 3.0]], at: localdatetime('2020-05-06T07:08:09')}]->(b:Person {i: 2}),
       (b)-[:\`SELF LOOP\`]->(b), (c), (:Person {i: 3})`,
    );
    await query(db1, typed('types_a'), 'MATCH (c) WHERE labels(c) = [] CREATE (c)-[:EMPTY]->(c)');
    await query(db1, typed('types_a'), 'CREATE INDEX FOR (n:Person) ON (n.i)');
    await query(db1, typed('types_a'), "CREATE FULLTEXT INDEX FOR (n:Person) ON (n.s) OPTIONS {language: 'german', stopwords: ['der', 'die']}");
    await query(db1, typed('types_a'), "CREATE VECTOR INDEX FOR (n:Person) ON (n.v) OPTIONS {dimension: 3, similarityFunction: 'cosine', M: 8}");
    await query(db1, typed('types_a'), 'CREATE INDEX FOR ()-[r:KNOWS]-() ON (r.since)');
    await db1.sendCommand(['GRAPH.CONSTRAINT', 'CREATE', typed('types_a'), 'UNIQUE', 'NODE', 'Person', 'PROPERTIES', '1', 'i']);
    await db1.sendCommand(['GRAPH.CONSTRAINT', 'CREATE', typed('types_a'), 'MANDATORY', 'RELATIONSHIP', 'KNOWS', 'PROPERTIES', '1', 'since']);
    await waitOperational(db1, typed('types_a'));
    await db1.sendCommand(['GRAPH.QUERY', typed('types_b'), `CYPHER vals=[${doubles.map(floatLiteral).join(', ')}] UNWIND range(0, size($vals) - 1) AS k CREATE (:R {k: k, v: $vals[k], l: [$vals[k], [$vals[k]]]})`]);
    await query(db1, typed('other'), 'CREATE (:Other)');
  });

  it('exports only the graphs --graphs selects, to stdout with --out -', async () => {
    const done = await runCli(['tenant', 'export', 'typed', '--graphs', 'types_*', '--out', '-'], env1);
    assert.equal(done.code, 0, done.stderr);
    assert.match(done.stderr, /types_a\s+4\s+3\s+4\s+2/);
    await writeFile(file(), done.stdout);
    const header = (await readRecords(file()))[0];
    assert.equal(header?.kind, 'header');
    assert.deepEqual(header.kind === 'header' && header.graphs, ['types_a', 'types_b']);
  });

  it('comes back with every value, type, label, index and constraint', async () => {
    await runCliJson(['tenant', 'import', 'typed', '--in', file(), '--rename-tenant', 'typed2', '--json'], env1);
    const copy = (graph: string) => tenantGraphKey('typed2', graph);
    const describeNodes = 'MATCH (n) RETURN id(n), labels(n), [k IN keys(n) | [k, typeOf(n[k]), n[k]]] ORDER BY id(n)';
    const sortProps = (rows: unknown[][]) => rows.map((r) => [r[0], r[1], [...(r[2] as unknown[])].map((p) => JSON.stringify(p)).sort()]);
    assert.deepEqual(sortProps(await query(db1, copy('types_a'), describeNodes)), sortProps(await query(db1, typed('types_a'), describeNodes)));
    const describeEdges = 'MATCH (a)-[e]->(b) RETURN id(a), type(e), id(b), [k IN keys(e) | [k, typeOf(e[k]), e[k]]] ORDER BY id(a), type(e)';
    assert.deepEqual(await query(db1, copy('types_a'), describeEdges), await query(db1, typed('types_a'), describeEdges));
    assert.deepEqual(await schemaOf(db1, copy('types_a')), await schemaOf(db1, typed('types_a')));
    // Exact, as the server compares them: floats to the last bit, temporal values to the second.
    const exact = await query(
      db1,
      copy('types_a'),
      `MATCH (n {i: 1}) RETURN n.f2 = 0.1 + 0.2, n.f3 = 1.0 / 3.0, n.tiny = 1e-300 * 1e-10, n.huge = 1.7976931348623157e308, n.nz = 0.0 AND 1.0 / n.nz < 0,
        n.nan <> n.nan, n.inf = 1.0 / 0.0, n.floats = [0.1 + 0.2, 1.0 / 3.0], n.arr = [1, 2.5, 'a', [true, [0.1 + 0.2]]], n.p = point({latitude: 0.1, longitude: 0.2}),
        n.dt = localdatetime('2024-01-02T03:04:05'), n.d = date('1800-03-04'), n.t = localtime('23:59:59'), n.du = duration('P1Y2M3DT4H5M6S'),
        n.big = 9223372036854775807, n.s = 'q"b\\\\n\\\\ \`x ü 😀', typeOf(n.f) = 'Float', typeOf(n.i) = 'Integer'`,
    );
    assert.deepEqual(exact, [Array(18).fill(true)]);
    // Relationship properties too, floats nested in lists included.
    assert.deepEqual(await query(db1, copy('types_a'), 'MATCH ()-[e:KNOWS]->() RETURN e.w = 0.1 + 0.7, e.ws = [[0.1 + 0.2, 1.0 / 3.0]]'), [[true, true]]);
    const mismatched = await db1.sendCommand(['GRAPH.QUERY', copy('types_b'), `CYPHER vals=[${doubles.map(floatLiteral).join(', ')}] MATCH (n:R) WHERE n.v <> $vals[n.k] OR n.l <> [$vals[n.k], [$vals[n.k]]] RETURN count(n)`]);
    assert.deepEqual((mismatched as RespValue[])[1], [[0]]);
    assert.equal(await scalar(db1, copy('types_b'), 'MATCH (n:R) RETURN count(n)'), doubles.length);
    // And the export of the copy equals the original export.
    const again = await exportInProcess(db1, 'typed2', path.join(dir, 'typed2.jsonl'), ['types_*']);
    assert.deepEqual(comparable(again), comparable(await readRecords(file())));
    assert.deepEqual(await keysMatching(db1, 'gw:transfer:*'), []);
  });
});

describe('one tenant per export', () => {
  it('never holds another tenant whose id shares a prefix (a vs a_b)', async () => {
    await query(db1, tenantGraphKey('a', 'b_c'), 'CREATE (:OfA)');
    await query(db1, tenantGraphKey('a_b', 'c'), 'CREATE (:OfAB)');
    await query(db1, tenantGraphKey('a_b', 'x'), 'CREATE (:OfAB)');
    await query(db1, tenantGraphKey('ab', 'y'), 'CREATE (:OfOther)');
    const ofA = await exportInProcess(db1, 'a', path.join(dir, 'a.jsonl'));
    const ofAB = await exportInProcess(db1, 'a_b', path.join(dir, 'a_b.jsonl'));
    const graphsOf = (records: TransferRecord[]) => records.flatMap((r) => (r.kind === 'graph' ? [r.name] : []));
    const labelsOf = (records: TransferRecord[]) => [...new Set(records.flatMap((r) => (r.kind === 'node' ? r.labels : [])))];
    assert.deepEqual(graphsOf(ofA), ['b_c']);
    assert.deepEqual(labelsOf(ofA), ['OfA']);
    assert.deepEqual(graphsOf(ofAB), ['c', 'x']);
    assert.deepEqual(labelsOf(ofAB), ['OfAB']);
  });

  it('a failed export leaves neither the file nor its .partial, and says why', async () => {
    await query(db1, tenantGraphKey('deep', 'g'), 'CREATE (:D {ok: [[1.0 / 3.0]], deep: [[[[[1.0 / 3.0]]]]]})');
    const out = path.join(dir, 'deep.jsonl');
    const done = await runCli(['tenant', 'export', 'deep', '--out', out], env1);
    assert.equal(done.code, 1);
    assert.match(done.stderr, /Exporting graph "g" failed: property "deep" holds a float nested more than 4 lists deep/);
    await assert.rejects(readFile(out), { code: 'ENOENT' });
    await assert.rejects(readFile(`${out}.partial`), { code: 'ENOENT' });
    assert.deepEqual(await keysMatching(db1, 'gw:transfer:*'), []);
  });

  it('keeps scratch graphs out of every tenant listing and key parse', () => {
    for (const [tenant, graph] of [['acme', 'x'], ['a_b', 'c'], ['gw:', 'y']] as const) {
      const key = scratchGraphKey(newTransferRunId(), tenantGraphKey(tenant, graph));
      assert.ok(key.startsWith('gw:transfer:'));
      assert.equal(parseTenantGraphKey(key), undefined);
      assert.ok(!key.startsWith(tenantKeyPrefix(tenant)));
    }
  });
});

describe('conflicts and broken files', () => {
  const file = () => path.join(dir, 'typed.jsonl');
  const target = (graph: string) => tenantGraphKey('conf', graph);

  let confGateway: RunningGateway | undefined;

  before(async () => {
    await query(db2, target('types_a'), "CREATE (:Marker {v: 'old'})");
    confGateway = await startTestGateway(s2.url);
  });

  after(async () => {
    await confGateway?.stop();
  });

  async function untouched(): Promise<void> {
    assert.deepEqual(await query(db2, target('types_a'), 'MATCH (n) RETURN labels(n), n.v'), [[['Marker'], 'old']]);
    assert.deepEqual(await keysMatching(db2, `${tenantKeyPrefix('conf')}*`), [target('types_a')]);
    assert.deepEqual(await keysMatching(db2, 'gw:transfer:*'), []);
  }

  it('--on-conflict fail (the default) refuses before writing anything', async () => {
    const done = await runCli(['tenant', 'import', 'typed', '--in', file(), '--rename-tenant', 'conf'], env2);
    assert.equal(done.code, 1);
    assert.match(done.stderr, /Tenant "conf" already has graph "types_a"; nothing was imported\. Add --on-conflict replace/);
    await untouched();
  });

  it('refuses a truncated file, naming the line, and leaves existing graphs untouched', async () => {
    const lines = (await readFile(file(), 'utf8')).split('\n').filter((l) => l !== '');
    const truncated = path.join(dir, 'truncated.jsonl');
    await writeFile(truncated, `${lines.slice(0, -1).join('\n')}\n`);
    const done = await runCli(['tenant', 'import', 'typed', '--in', truncated, '--rename-tenant', 'conf', '--on-conflict', 'replace'], env2);
    assert.equal(done.code, 1);
    assert.match(done.stderr, new RegExp(`line ${lines.length}: is the end of the file, but the end record is missing: the file is truncated`));
    assert.doesNotMatch(done.stderr, /\n\s+at /);
    await untouched();
  });

  it('refuses a corrupt line, a record of the wrong shape and a file of another format, naming the line', async () => {
    const lines = (await readFile(file(), 'utf8')).split('\n').filter((l) => l !== '');
    const cases: Array<[string, (l: string[]) => string[], RegExp]> = [
      ['cut.jsonl', (l) => [...l.slice(0, 2), l[2]!.slice(0, 20), ...l.slice(3)], /cut\.jsonl, line 3: is not valid JSON/],
      ['shape.jsonl', (l) => [...l.slice(0, 2), JSON.stringify({ kind: 'node', id: 0, labels: [], properties: { x: 1.5 } }), ...l.slice(3)], /line 3: is not a valid node record: "properties\.x" .*write floats as \{"\$float": x\}/],
      ['name.jsonl', (l) => [...l.slice(0, 2), JSON.stringify({ kind: 'node', id: 0, labels: ['a`b'], properties: {} }), ...l.slice(3)], /line 3: is not a valid node record: "labels\.0" must not contain a backtick/],
      ['order.jsonl', (l) => [l[0]!, l[1]!, l[3]!, l[2]!, ...l.slice(4)], /line 4: has node id 0, but node ids must increase/],
      ['format.jsonl', (l) => [JSON.stringify({ ...JSON.parse(l[0]!), format: 'something-else' }), ...l.slice(1)], /line 1: is not a valid header record: "format" must be "falkordb-mcp-gateway\/tenant-export"/],
      ['version.jsonl', (l) => [JSON.stringify({ ...JSON.parse(l[0]!), version: 99 }), ...l.slice(1)], /line 1: is format version 99; this gateway reads version 1/],
    ];
    for (const [name, change, message] of cases) {
      const broken = path.join(dir, name);
      await writeFile(broken, `${change(lines).join('\n')}\n`);
      const error = await rejection(importTenant({ db: db2, file: broken, tenant: 'typed', targetTenant: 'conf', onConflict: 'replace' }));
      assert.equal(error.code, 'TRANSFER_FILE_INVALID', name);
      assert.match(error.message, message);
    }
    await untouched();
  });

  it('a file that fails while loading leaves the graph it would replace untouched', async () => {
    const records: TransferRecord[] = [
      { kind: 'header', format: 'falkordb-mcp-gateway/tenant-export', version: 1, tenant: 'typed', graphs: ['types_a'], createdAt: '', gatewayVersion: '', falkordbVersion: '' },
      { kind: 'graph', name: 'types_a' },
      { kind: 'node', id: 0, labels: ['New'], properties: {} },
      { kind: 'node', id: 2, labels: ['New'], properties: {} },
      // Node 1 is not in the file: the relationship cannot be made.
      { kind: 'relationship', type: 'R', from: 0, to: 1, properties: {} },
      { kind: 'graph-end', name: 'types_a', nodes: 2, relationships: 1, indexes: 0, constraints: 0 },
      { kind: 'end', graphs: 1 },
    ];
    const broken = path.join(dir, 'dangling.jsonl');
    await writeFile(broken, records.map((r) => `${JSON.stringify(r)}\n`).join(''));
    const error = await rejection(importTenant({ db: db2, file: broken, tenant: 'typed', targetTenant: 'conf', onConflict: 'replace' }));
    assert.match(error.message, /relationship\(s\) on lines 5–5 of graph "types_a" connect a node id the file has no node for/);
    await untouched();
  });

  it('refuses unknown options values with a usage error', async () => {
    const [mode, stdoutJson] = await Promise.all([
      runCli(['tenant', 'import', 'typed', '--in', file(), '--rename-tenant', 'conf', '--on-conflict', 'merge'], env2),
      runCli(['tenant', 'export', 'typed', '--out', '-', '--json'], env2),
    ]);
    assert.equal(mode.code, 2);
    assert.match(mode.stderr, /--on-conflict must be fail or replace; got "merge"/);
    assert.equal(stdoutJson.code, 2);
    assert.match(stdoutJson.stderr, /--json prints a summary on stdout, which --out - uses for the file/);
    assert.equal(stdoutJson.stdout, '');
    await untouched();
  });

  it('refuses a file of another tenant unless told which tenant it is', async () => {
    const error = await rejection(importTenant({ db: db2, file: file(), tenant: 'someone', targetTenant: 'conf', onConflict: 'replace' }));
    assert.equal(error.code, 'REQUEST_INVALID');
    assert.match(error.message, /holds the graphs of tenant "typed", not "someone"/);
    await untouched();
  });

  it('--on-conflict replace replaces the existing graph and creates the rest, and no gateway serves the old one from its cache', async () => {
    const client = await connectClient('http', confGateway?.url ?? '', await signTestToken('conf'));
    clients.push(client);
    assert.deepEqual(((await mustCall(client, 'falkordb_graph_schema', { graphName: 'types_a' })).labels as Array<{ name: string }>).map((l) => l.name), ['Marker']);
    assert.deepEqual((await mustCall(client, 'falkordb_list_graphs')).graphs, ['types_a']);
    const result = await runCliJson<{ replaced: string[] }>(['tenant', 'import', 'typed', '--in', file(), '--rename-tenant', 'conf', '--on-conflict', 'replace', '--json'], env2);
    assert.deepEqual(result.replaced, ['types_a']);
    assert.equal(await scalar(db2, target('types_a'), 'MATCH (n:Marker) RETURN count(n)'), 0);
    assert.equal(await scalar(db2, target('types_a'), 'MATCH (n:Person) RETURN count(n)'), 3);
    assert.deepEqual((await keysMatching(db2, `${tenantKeyPrefix('conf')}*`)).sort(), [target('types_a'), target('types_b')]);
    assert.deepEqual(await keysMatching(db2, 'gw:transfer:*'), []);
    assert.deepEqual(((await mustCall(client, 'falkordb_graph_schema', { graphName: 'types_a' })).labels as Array<{ name: string }>).map((l) => l.name), ['Person', 'Ü x-y']);
    assert.deepEqual((await mustCall(client, 'falkordb_list_graphs')).graphs, ['types_a', 'types_b']);
  });
});

describe('a value nested deeper than the gateway reads', () => {
  it('fails the export with RESULT_TOO_DEEP, in words, and no internal marker', async () => {
    await query(db1, tenantGraphKey('deep', 'g'), 'CREATE (:Deep {list: reduce(acc = [], i IN range(1, 400) | [acc])})');
    const error = await rejection(exportTenant({ db: db1, graphs: new GraphClient(db1), tenant: 'deep', write: async () => {} }));
    assert.equal(error.code, 'RESULT_TOO_DEEP', error.message);
    assert.doesNotMatch(error.message, /GATEWAY-REPLY-GUARD/);
  });
});
