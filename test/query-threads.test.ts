// FalkorDB runs THREAD_COUNT queries at once and queues the rest in arrival
// order. A tenant allowed as many queries at once as there are threads fills
// them all, and every other tenant's query waits behind its slow ones: the
// embedded server starts with more threads than one tenant may use, and an
// external one with too few is refused at start.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { loadConfig } from '../src/config/index.js';
import { startGateway, type RunningGateway } from '../src/main.js';
import { rejection } from './support/assertions.js';
import { captureLog, startTestGateway } from './support/gateway.js';
import { startTestFalkorDB, testLogger, type TestFalkorDB } from './support/falkordb.js';
import { callTool, connectClient, mustCall } from './support/mcp.js';
import { TEST_SECRET, signTestToken } from './support/tokens.js';

// At least as many as this machine has CPUs: with one query thread per CPU (FalkorDB's default), the cap would fill them all.
const CAP = Math.max(3, os.availableParallelism());
// Reads nothing and keeps a thread busy until its timeout (hundreds of millions of rows): 10 s, well past the bystander's wait.
const SLOW_QUERY = 'WITH range(1, 10000) AS r UNWIND range(1, 100000) AS a UNWIND r AS x WITH x WHERE x < 0 RETURN count(x) AS n';

async function threadCount(db: { sendCommand(args: string[]): Promise<unknown> }): Promise<number> {
  return Number(((await db.sendCommand(['GRAPH.CONFIG', 'GET', 'THREAD_COUNT'])) as unknown[])[1]);
}

describe('query threads on the embedded server', { timeout: 180_000 }, () => {
  let dataDir: string;
  let gateway: RunningGateway;
  const clients: Client[] = [];

  before(async () => {
    dataDir = await mkdtemp(path.join(os.tmpdir(), 'threads-embedded-'));
    const config = loadConfig({
      FALKORDB_DATA_DIR: dataDir,
      AUTH_JWT_SECRET: TEST_SECRET,
      HOST: '127.0.0.1',
      PORT: '0',
      METRICS_PORT: 'off',
      LOG_LEVEL: 'silent',
      MAX_CONCURRENT_QUERIES_PER_TENANT: String(CAP),
      QUERY_TIMEOUT_MS: '60000',
    });
    gateway = await startGateway({ config, logger: testLogger(), allowInstall: false });
  });

  after(async () => {
    await Promise.allSettled(clients.map((c) => c.close()));
    await gateway?.stop();
    await rm(dataDir, { recursive: true, force: true });
  });

  async function clientOf(tenant: string): Promise<Client> {
    const client = await connectClient('http', gateway.url, await signTestToken(tenant));
    clients.push(client);
    return client;
  }

  it('are more than one tenant may use at once, so its slow queries leave threads to the others', async () => {
    const threads = await threadCount(gateway.database.db);
    assert.ok(threads >= 2 * CAP, `THREAD_COUNT ${threads}, per-tenant cap ${CAP}`);
    const hostile = await clientOf('threads-hostile');
    const bystander = await clientOf('threads-bystander');
    for (let i = 0; i < CAP; i++) await mustCall(hostile, 'falkordb_query', { graphName: `s${i}`, query: 'CREATE (:Seed)' });
    await mustCall(bystander, 'falkordb_query', { graphName: 'b', query: 'CREATE (:Seed)' });
    const slow = Array.from({ length: CAP }, (_, i) => callTool(hostile, 'falkordb_query', { graphName: `s${i}`, query: SLOW_QUERY, timeoutMs: 10_000 }));
    // Every slow query has reached the database: the tenant's slots are all taken.
    await new Promise((r) => setTimeout(r, 2000));
    // With every thread held by the slow queries, this one would wait in FalkorDB's queue past its own timeout.
    const served = await callTool(bystander, 'falkordb_query', { graphName: 'b', query: 'RETURN 1 AS one', timeoutMs: 3000 });
    assert.equal(served.ok, true, served.text);
    assert.deepEqual(served.structured?.rows, [{ one: 1 }]);
    for (const outcome of await Promise.all(slow)) assert.equal(outcome.error?.code, 'QUERY_TIMEOUT', outcome.text);
  });
});

describe('query threads on an external server', { timeout: 120_000 }, () => {
  let few: TestFalkorDB;

  before(async () => {
    few = await startTestFalkorDB({ threads: 2 });
  });

  after(async () => {
    await few?.cleanup();
  });

  it('refuses to start when THREAD_COUNT is not above MAX_CONCURRENT_QUERIES_PER_TENANT, saying what to change', async () => {
    const error = await rejection(startTestGateway(few.url, { MAX_CONCURRENT_QUERIES_PER_TENANT: '2' }));
    assert.equal(error.code, 'DATABASE_LIMITS_MISSING');
    assert.match(error.message, /THREAD_COUNT 4 in the loadmodule line \(it cannot be changed while the server runs\)/);
    assert.match(error.message, /lower MAX_CONCURRENT_QUERIES_PER_TENANT below the server's THREAD_COUNT/);
    assert.match(error.message, /DATABASE_LIMITS=off/);
    // Only THREAD_COUNT was missing: the message does not offer GRAPH.CONFIG SET, which cannot change it.
    assert.doesNotMatch(error.message, /GRAPH\.CONFIG SET/);
    assert.equal(error.details.settings, 'THREAD_COUNT');
  });

  it('starts when the per-tenant cap leaves a thread free, or with DATABASE_LIMITS=off (and warns)', async () => {
    const fits = await startTestGateway(few.url, { MAX_CONCURRENT_QUERIES_PER_TENANT: '1' });
    await fits.stop();
    const log = captureLog();
    const off = await startTestGateway(few.url, { MAX_CONCURRENT_QUERIES_PER_TENANT: '2', DATABASE_LIMITS: 'off' }, log.stream);
    await off.stop();
    assert.match(log.text(), /DATABASE_LIMITS=off.*THREAD_COUNT 4 in the loadmodule line/s);
  });
});
