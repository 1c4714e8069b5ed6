// The graph client against a real FalkorDB: listing, deleting, shaping.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { connectDatabase } from '../src/falkordb/connection.js';
import type { Database } from '../src/falkordb/database.js';
import { GraphClient } from '../src/falkordb/graphs.js';
import { tenantGraphKey, tenantKeyPrefix } from '../src/tenancy/keys.js';
import { startTestFalkorDB, testLogger, type TestFalkorDB } from './support/falkordb.js';

let server: TestFalkorDB;
let db: Database;
let graphs: GraphClient;

before(async () => {
  server = await startTestFalkorDB();
  db = await connectDatabase({ url: server.url, connectTimeoutMs: 5000, logger: testLogger() });
  graphs = new GraphClient(db);
});

after(async () => {
  await db?.close();
  await server?.cleanup();
});

describe('GraphClient', () => {
  it('never lists a graph right after deleting it', async () => {
    const key = tenantGraphKey('churn', 'g');
    for (let i = 0; i < 400; i++) {
      await graphs.query({ key, query: 'CREATE (:N)', readOnly: false, timeoutMs: 5000, maxRows: 10 });
      assert.equal(await graphs.deleteGraph(key), true);
      assert.deepEqual(await graphs.listKeys(tenantKeyPrefix('churn')), [], `listed after delete, round ${i}`);
    }
  });

  it('lists only keys under the given prefix, encoded prefixes included', async () => {
    for (const [tenant, graph] of [['a_b', 'c'], ['a', 'b_c'], ['a.b', 'x'], ['é', 'y']] as const) {
      await graphs.query({ key: tenantGraphKey(tenant, graph), query: 'CREATE (:N)', readOnly: false, timeoutMs: 5000, maxRows: 10 });
    }
    await db.sendCommand(['SET', 'a_plainstring', 'x']);
    assert.deepEqual((await graphs.listKeys(tenantKeyPrefix('a'))).sort(), ['a_b_c']);
    assert.deepEqual(await graphs.listKeys(tenantKeyPrefix('a_b')), ['a%5Fb_c']);
    assert.deepEqual(await graphs.listKeys(tenantKeyPrefix('a.b')), ['a.b_x']);
    assert.deepEqual(await graphs.listKeys(tenantKeyPrefix('é')), ['%C3%A9_y']);
  });

  it('resolves labels added after names were cached', async () => {
    const key = tenantGraphKey('names', 'g');
    const q = (query: string) => graphs.query({ key, query, readOnly: false, timeoutMs: 5000, maxRows: 10 });
    await q('CREATE (:First {a: 1})');
    assert.deepEqual((await q('MATCH (n) RETURN n')).rows[0], { n: { id: 0, labels: ['First'], properties: { a: 1 } } });
    await q('CREATE (:Second {b: 2})');
    const rows = (await q('MATCH (n:Second) RETURN n')).rows;
    assert.deepEqual(rows[0], { n: { id: 1, labels: ['Second'], properties: { b: 2 } } });
  });
});
