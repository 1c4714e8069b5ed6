// A query result is sized for a model's context (MAX_RESULT_BYTES, 256 KiB by default):
// rows past it are left out and the result says how many came back of how many and
// how to ask for the rest; a lone row too big has its long lists and strings cut, each
// with a marker. The text block is the same JSON as structuredContent, which the SDK
// client checks against the tool's outputSchema.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import type { RunningGateway } from '../src/main.js';
import { startTestFalkorDB, type TestFalkorDB } from './support/falkordb.js';
import { startTestGateway } from './support/gateway.js';
import { connectClient, mustCall } from './support/mcp.js';
import { signTestToken } from './support/tokens.js';

/** The default MAX_RESULT_BYTES. */
const LIMIT = 256 * 1024;

let db: TestFalkorDB;
let gateway: RunningGateway;
let client: Client;

before(async () => {
  db = await startTestFalkorDB();
  gateway = await startTestGateway(db.url);
  client = await connectClient('http', gateway.url, await signTestToken('sizing', { scope: 'read write' }));
  // The SDK client checks structuredContent against outputSchema only for the tools it has listed.
  await client.listTools();
  await mustCall(client, 'falkordb_query', { graphName: 'g', query: 'CREATE (:Seed)' });
});

after(async () => {
  await client?.close();
  await gateway?.stop();
  await db?.cleanup();
});

interface Sized {
  rows: Array<Record<string, unknown>>;
  rowCount: number;
  truncated: boolean;
  totalRows?: number;
  notice?: string;
}

/** One falkordb_query call, read as both of its forms: they must be the same data, within the limit. */
async function query(q: string): Promise<Sized> {
  const raw = await client.callTool({ name: 'falkordb_query', arguments: { graphName: 'g', query: q } });
  const text = (raw.content as Array<{ type: string; text: string }>)[0]!.text;
  assert.equal(raw.isError, undefined, text.slice(0, 300));
  assert.ok(Buffer.byteLength(text, 'utf8') <= LIMIT, `${Buffer.byteLength(text, 'utf8')} bytes`);
  assert.deepEqual(JSON.parse(text), raw.structuredContent);
  return raw.structuredContent as unknown as Sized;
}

describe('falkordb_query results sized for a model', () => {
  it('declares totalRows and notice in its outputSchema', async () => {
    const { tools } = await client.listTools();
    const properties = (tools.find((t) => t.name === 'falkordb_query')?.outputSchema?.properties ?? {}) as Record<string, { type?: string }>;
    assert.equal(properties['totalRows']?.type, 'integer');
    assert.equal(properties['notice']?.type, 'string');
  });

  it('cuts a long list with a marker element that counts the dropped items', async () => {
    const out = await query('RETURN range(1, 200000) AS r');
    const list = out.rows[0]!['r'] as unknown[];
    const kept = list.length - 1;
    assert.ok(kept > 10_000 && kept < 200_000, String(kept));
    assert.deepEqual(list.slice(0, 3), [1, 2, 3]);
    assert.equal(list[kept - 1], kept);
    assert.equal(list[kept], `… ${200_000 - kept} more items`);
    assert.equal(out.truncated, true);
    assert.equal(out.rowCount, 1);
    assert.match(out.notice ?? '', /^Returned 1 of 1 rows: the result is limited to 262144 bytes of JSON\. Long values in row 1 were cut/);
  });

  it('cuts a long string, saying how many characters are left out', async () => {
    // 2^19 - 2 characters of "ab" repeated.
    const out = await query("RETURN 1 AS id, reduce(s = '', i IN range(1, 18) | s + s + 'ab') AS s");
    const s = out.rows[0]!['s'] as string;
    const match = /^((?:ab)*a?b?)… \((\d+) more characters\)$/.exec(s);
    assert.ok(match, s.slice(-80));
    assert.equal(match[1]!.length + Number(match[2]), 2 ** 19 - 2);
    assert.ok(match[1]!.length > 100_000, String(match[1]!.length));
    assert.equal(out.rows[0]!['id'], 1);
    assert.equal(out.truncated, true);
  });

  it('leaves out the rows past the limit, says how many came back of how many, and the notice pages on', async () => {
    const rows = "UNWIND range(1, 9000) AS x RETURN x, 'a padded line of text for each row' AS t";
    const out = await query(rows);
    assert.equal(out.truncated, true);
    assert.equal(out.totalRows, 9000);
    assert.ok(out.rowCount > 1000 && out.rowCount < 9000, String(out.rowCount));
    assert.deepEqual(out.rows.map((r) => r['x']), Array.from({ length: out.rowCount }, (_, i) => i + 1));
    const page = new RegExp(`^Returned ${out.rowCount} of 9000 rows: .* Page through the rest with SKIP ${out.rowCount} LIMIT ${out.rowCount}, or return fewer columns per row\\.$`);
    assert.match(out.notice ?? '', page);
    // What the notice says to do gives the next rows.
    const next = await query(`${rows} SKIP ${out.rowCount} LIMIT ${out.rowCount}`);
    assert.equal(next.rows[0]!['x'], out.rowCount + 1);
  });

  it('says "more than" and no totalRows when the row cap (MAX_ROWS) already cut the result', async () => {
    const out = await query('UNWIND range(1, 20000) AS x RETURN x');
    assert.equal(out.rowCount, 10000);
    assert.equal(out.truncated, true);
    assert.equal(out.totalRows, undefined);
    assert.match(out.notice ?? '', /^Returned 10000 of more than 10000 rows: a query returns at most 10000 rows here\./);
  });

  it('returns a result within the limit as before, without a notice', async () => {
    const out = await query('UNWIND range(1, 100) AS x RETURN x');
    assert.equal(out.truncated, false);
    assert.equal(out.rowCount, 100);
    assert.equal(out.notice, undefined);
    assert.equal(out.totalRows, undefined);
  });

  it('refuses with RESULT_TOO_LARGE only when not even the cut first row fits: a row of thousands of wide columns', async () => {
    // Wide characters: three bytes each in the JSON, one character of the query each (its limit counts characters).
    const columns = Array.from({ length: 3000 }, (_, i) => `s AS \`列列列列${i}\``).join(', ');
    const raw = await client.callTool({ name: 'falkordb_query', arguments: { graphName: 'g', query: `WITH '${'値'.repeat(20)}' AS s RETURN ${columns}` } });
    assert.equal(raw.isError, true);
    const { error } = raw.structuredContent as { error: { code: string; message: string } };
    assert.equal(error.code, 'RESULT_TOO_LARGE');
    assert.match(error.message, /first row is more than 262144 bytes of JSON.*even with its long lists and strings cut\. Return fewer columns/);
  });

  it('still refuses a list bigger than the database reply limit (MAX_REPLY_BYTES) before reading it', async () => {
    const raw = await client.callTool({ name: 'falkordb_query', arguments: { graphName: 'g', query: 'RETURN range(1, 5000000) AS r' } });
    assert.equal(raw.isError, true);
    const { error } = raw.structuredContent as { error: { code: string; message: string } };
    assert.equal(error.code, 'RESULT_TOO_LARGE');
    assert.match(error.message, /database's reply is larger than 4194304 bytes/);
  });
});
