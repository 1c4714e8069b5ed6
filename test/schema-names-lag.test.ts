// A query's reply names labels by id; the gateway looks the names up separately.
// With read replicas that lookup can land on a replica further behind than the one
// that answered the query: the refresh must then ask the primary, not fail.
// Two real servers stand in for an up-to-date and a lagging copy of one graph.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { connectDatabase } from '../src/falkordb/connection.js';
import type { CommandOptions, Database, RespValue } from '../src/falkordb/database.js';
import { GraphClient } from '../src/falkordb/graphs.js';
import { startTestFalkorDB, testLogger, type TestFalkorDB } from './support/falkordb.js';

let upToDate: TestFalkorDB;
let lagging: TestFalkorDB;
let primaryDb: Database;
let laggingDb: Database;

before(async () => {
  [upToDate, lagging] = await Promise.all([startTestFalkorDB(), startTestFalkorDB()]);
  primaryDb = await connectDatabase({ url: upToDate.url, connectTimeoutMs: 5000, logger: testLogger() });
  laggingDb = await connectDatabase({ url: lagging.url, connectTimeoutMs: 5000, logger: testLogger() });
});

after(async () => {
  await primaryDb?.close();
  await laggingDb?.close();
  await Promise.all([upToDate?.cleanup(), lagging?.cleanup()]);
});

describe('label names of a reply, with a lagging replica', () => {
  it('refreshes the names from the primary when the replica it asked lacks a label the reply has', async () => {
    const key = 'lag_g';
    // The primary (and the replica that answers the query) know :Old and :New; the lagging one only :Old.
    await primaryDb.sendCommand(['GRAPH.QUERY', key, 'CREATE (:Old {v: 1}), (:New {v: 2})']);
    await laggingDb.sendCommand(['GRAPH.QUERY', key, 'CREATE (:Old {v: 1})']);
    const lookups: string[] = [];
    // Routes like the replica router would with two replicas: the query to the
    // up-to-date copy, name lookups (CALL db.*) to the lagging one, unless asked for the primary.
    const routed: Database = {
      address: 'routed',
      moduleVersion: primaryDb.moduleVersion,
      isReady: true,
      ping: (ms) => primaryDb.ping(ms),
      close: () => Promise.resolve(),
      sendCommand(args: readonly string[], options?: CommandOptions): Promise<RespValue> {
        const lookup = args[0] === 'GRAPH.RO_QUERY' && (args[2] ?? '').startsWith('CALL db.');
        if (lookup) lookups.push(options?.primary === true ? 'primary' : 'lagging replica');
        return lookup && options?.primary !== true ? laggingDb.sendCommand(args, options) : primaryDb.sendCommand(args, options);
      },
    };
    const graphs = new GraphClient(routed);
    const reply = await graphs.query({ key, query: 'MATCH (n) RETURN n ORDER BY n.v', readOnly: true, timeoutMs: 5000, maxRows: 10 });
    const labels = reply.rows.map((row) => (row['n'] as { labels: string[] }).labels);
    assert.deepEqual(labels, [['Old'], ['New']]);
    // First from the lagging replica (:New missing), then from the primary.
    assert.ok(lookups.includes('lagging replica') && lookups.includes('primary'), lookups.join(', '));
  });
});
