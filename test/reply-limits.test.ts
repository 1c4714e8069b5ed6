// What one query may make the gateway read and return is bounded: a reply nested
// deeper than the client can decode, a reply bigger than MAX_REPLY_BYTES and a
// result bigger than MAX_RESULT_BYTES each get a clear error (or the rows that fit, or a
// first row with its long values cut, marked truncated), and the connections they came on stay usable and in step for everyone.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import type { RunningGateway } from '../src/main.js';
import { MAX_REPLY_DEPTH } from '../src/falkordb/reply-guard.js';
import { startTestFalkorDB, type TestFalkorDB } from './support/falkordb.js';
import { startTestGateway } from './support/gateway.js';
import { callTool, connectClient, mustCall } from './support/mcp.js';
import { signTestToken } from './support/tokens.js';

const MAX_REPLY_BYTES = 1024 * 1024;
const MAX_RESULT_BYTES = 64 * 1024;
/** Calls one tenant makes at once: within its concurrency cap (MAX_CONCURRENT_QUERIES_PER_TENANT, 8). */
const CONCURRENT = 8;

let db: TestFalkorDB;
let gateway: RunningGateway;
let attacker: Client;
let bystander: Client;
const clients: Client[] = [];

async function clientOf(tenant: string, scope: string): Promise<Client> {
  const c = await connectClient('http', gateway.url, await signTestToken(tenant, { scope }));
  clients.push(c);
  return c;
}

before(async () => {
  db = await startTestFalkorDB();
  // A short time limit: without the guard a too-deep reply is never answered and ends as QUERY_TIMEOUT.
  gateway = await startTestGateway(db.url, { QUERY_TIMEOUT_MS: '3000', MAX_REPLY_BYTES: String(MAX_REPLY_BYTES), MAX_RESULT_BYTES: String(MAX_RESULT_BYTES) });
  const writer = await clientOf('mallory', 'read write');
  attacker = await clientOf('mallory', 'read');
  bystander = await clientOf('bystander', 'read write');
  await mustCall(writer, 'falkordb_query', { graphName: 'g', query: 'CREATE (:Seed)' });
  await mustCall(writer, 'falkordb_query', { graphName: 'deep', query: 'CREATE (:Deep {list: reduce(acc = [], i IN range(1, 400) | [acc])})' });
  await mustCall(bystander, 'falkordb_query', { graphName: 'g', query: 'CREATE (:Seed {n: 1})' });
});

after(async () => {
  await Promise.allSettled(clients.map((c) => c.close()));
  await gateway?.stop();
  await db?.cleanup();
});

const DEEP = 'RETURN reduce(acc = [], i IN range(1, 1000) | [acc]) AS deep';

async function refusal(client: Client, query: string, graphName = 'g'): Promise<{ code: string | undefined; message: string }> {
  const out = await callTool(client, 'falkordb_query', { graphName, query });
  assert.equal(out.ok, false, `expected a refusal, got: ${out.text.slice(0, 200)}`);
  return { code: out.error?.code, message: out.error?.message ?? '' };
}

/** Distinct queries at once, each of which must get its own value back. */
async function assertInStep(client: Client, count: number): Promise<void> {
  const answers = await Promise.allSettled(
    Array.from({ length: count }, async (_, i) => {
      const out = await mustCall(client, 'falkordb_query', { graphName: 'g', query: 'RETURN $n AS n', parameters: { n: i } });
      return (out['rows'] as Array<{ n: number }>)[0]!.n;
    }),
  );
  assert.deepEqual(answers.map((a) => (a.status === 'fulfilled' ? a.value : String(a.reason))), Array.from({ length: count }, (_, i) => i));
}

describe('a reply nested deeper than the client decodes', () => {
  it('is refused with RESULT_TOO_DEEP, naming the limit, for a read-only token', async () => {
    const { code, message } = await refusal(attacker, DEEP);
    assert.equal(code, 'RESULT_TOO_DEEP', message);
    assert.match(message, new RegExp(`more than ${MAX_REPLY_DEPTH} levels deep`));
    assert.doesNotMatch(message, /GATEWAY-REPLY-GUARD|\n\s+at /);
  });

  it('is refused when the deep value is stored in the graph', async () => {
    const { code } = await refusal(attacker, 'MATCH (n:Deep) RETURN n', 'deep');
    assert.equal(code, 'RESULT_TOO_DEEP');
    const out = await mustCall(attacker, 'falkordb_query', { graphName: 'deep', query: 'MATCH (n:Deep) RETURN size(n.list) AS size' });
    assert.deepEqual(out['rows'], [{ size: 1 }]);
  });

  it('leaves no database connection behind: more such calls than the pool holds, then everyone is served', async () => {
    // The query pool holds 128 connections; each unanswered reply used to keep one leased for good.
    for (let i = 0; i < 140; i++) assert.equal((await refusal(attacker, DEEP)).code, 'RESULT_TOO_DEEP');
    await Promise.all([assertInStep(bystander, CONCURRENT), assertInStep(attacker, CONCURRENT)]);
  });
});

describe('a reply bigger than MAX_REPLY_BYTES', () => {
  const BIG = 'UNWIND range(1, 2000) AS x RETURN range(1, 100) AS r';

  it('is refused with RESULT_TOO_LARGE, naming the limit', async () => {
    const { code, message } = await refusal(attacker, BIG);
    assert.equal(code, 'RESULT_TOO_LARGE', message);
    assert.match(message, new RegExp(`larger than ${MAX_REPLY_BYTES} bytes`));
    assert.match(message, /LIMIT/);
  });

  it('is refused as one long string too', async () => {
    // 2^21 - 2 characters, past MAX_REPLY_BYTES (a string within it but past MAX_RESULT_BYTES is cut instead).
    const { code, message } = await refusal(attacker, `RETURN reduce(s = '', i IN range(1, 20) | s + s + 'ab') AS s`);
    assert.equal(code, 'RESULT_TOO_LARGE');
    assert.match(message, new RegExp(`larger than ${MAX_REPLY_BYTES} bytes`));
  });

  it('keeps every other reply on the same connections in step', async () => {
    // Mallory's big replies and small ones interleaved with the bystander's, within each tenant's cap.
    const calls = 2 * CONCURRENT;
    const mixed = await Promise.allSettled(
      Array.from({ length: calls }, async (_, i) => {
        if (i % 4 === 0) return (await refusal(attacker, BIG)).code;
        const out = await mustCall(i % 2 === 0 ? attacker : bystander, 'falkordb_query', { graphName: 'g', query: 'RETURN $n AS n, range(1, 50) AS r', parameters: { n: i } });
        return (out['rows'] as Array<{ n: number }>)[0]!.n;
      }),
    );
    assert.deepEqual(
      mixed.map((m) => (m.status === 'fulfilled' ? m.value : String(m.reason))),
      Array.from({ length: calls }, (_, i) => (i % 4 === 0 ? 'RESULT_TOO_LARGE' : i)),
    );
  });

  it('does not limit a reply within it', async () => {
    const out = await mustCall(attacker, 'falkordb_query', { graphName: 'g', query: 'UNWIND range(1, 500) AS x RETURN x' });
    assert.equal(out['rowCount'], 500);
    assert.equal(out['truncated'], false);
  });
});

describe('a result bigger than MAX_RESULT_BYTES of JSON', () => {
  it('returns the whole rows that fit, marked truncated', async () => {
    const query = "UNWIND range(1, 5000) AS x RETURN x, 'a padded line of text for each row' AS t";
    const raw = await attacker.callTool({ name: 'falkordb_query', arguments: { graphName: 'g', query } });
    const text = (raw.content as Array<{ text: string }>)[0]!.text;
    assert.ok(Buffer.byteLength(text) <= MAX_RESULT_BYTES, `${Buffer.byteLength(text)} bytes`);
    const out = JSON.parse(text) as { rows: Array<{ x: number; t: string }>; rowCount: number; truncated: boolean };
    assert.equal(out.truncated, true, text.slice(0, 300));
    assert.ok(out.rowCount > 100 && out.rowCount < 5000, String(out.rowCount));
    assert.equal(out.rows.length, out.rowCount);
    assert.deepEqual(out.rows.map((r) => r.x), Array.from({ length: out.rowCount }, (_, i) => i + 1));
    assert.deepEqual(raw.structuredContent, out);
  });

  it('cuts a first row that alone does not fit, its long list ending with a marker', async () => {
    const raw = await attacker.callTool({ name: 'falkordb_query', arguments: { graphName: 'g', query: "RETURN [x IN range(1, 20000) | 'abcdef'] AS big" } });
    const text = (raw.content as Array<{ text: string }>)[0]!.text;
    assert.ok(Buffer.byteLength(text) <= MAX_RESULT_BYTES, `${Buffer.byteLength(text)} bytes`);
    const out = JSON.parse(text) as { rows: Array<{ big: string[] }>; truncated: boolean; notice: string };
    const big = out.rows[0]!.big;
    assert.equal(big[big.length - 1], `… ${20000 - (big.length - 1)} more items`);
    assert.ok(big.slice(0, -1).every((v) => v === 'abcdef'));
    assert.equal(out.truncated, true);
    assert.match(out.notice, /Long values in row 1 were cut/);
    assert.deepEqual(raw.structuredContent, out);
  });

  it('refuses with RESULT_TOO_LARGE when not even the cut first row fits', async () => {
    const columns = Array.from({ length: 2000 }, (_, i) => `s AS c${i}`).join(', ');
    const { code, message } = await refusal(attacker, `WITH '0123456789012345678901' AS s RETURN ${columns}`);
    assert.equal(code, 'RESULT_TOO_LARGE', message);
    assert.match(message, new RegExp(`first row is more than ${MAX_RESULT_BYTES} bytes of JSON`));
  });
});
