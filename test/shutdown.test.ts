// Graceful shutdown of the real command: SIGTERM while queries are in flight.
// Every call either completes or is refused cleanly, every acknowledged write
// is in the database afterwards, and the process exits 0.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { connectDatabase } from '../src/falkordb/connection.js';
import { freeLoopbackPort } from '../src/falkordb/launcher.js';
import { startTestFalkorDB, testLogger, type TestFalkorDB } from './support/falkordb.js';
import { CLI_ENTRY, REPO_ROOT, callTool, connectClient } from './support/mcp.js';
import { TEST_SECRET, signTestToken } from './support/tokens.js';

let db: TestFalkorDB;

before(async () => {
  db = await startTestFalkorDB();
});

after(async () => {
  await db?.cleanup();
});

/** A write that takes a few hundred milliseconds: long enough to be caught in flight. */
const SLOW_WRITE = 'CREATE (:Ack {id: $id}) WITH 1 AS one UNWIND range(1, 3000000) AS x WITH x WHERE x < 0 RETURN count(x) AS n';

interface Call {
  id: number;
  startedAt: number;
  endedAt: number;
  ok: boolean;
  failure?: string;
}

describe('graceful shutdown', () => {
  it('finishes in-flight calls on SIGTERM, refuses new ones cleanly, loses no acknowledged write and exits 0', async () => {
    const port = await freeLoopbackPort();
    const child = spawn(process.execPath, ['--import', 'tsx', CLI_ENTRY, 'serve'], {
      cwd: REPO_ROOT,
      env: { PATH: process.env.PATH ?? '', FALKORDB_URL: db.url, AUTH_JWT_SECRET: TEST_SECRET, PORT: String(port), LOG_LEVEL: 'warn', METRICS_PORT: 'off', SHUTDOWN_TIMEOUT_MS: '30000', QUERY_TIMEOUT_MS: '60000', RATE_LIMIT_PER_MINUTE: '0' },
    });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
    const baseUrl = `http://127.0.0.1:${port}`;
    for (let i = 0; i < 200; i++) {
      const ready = await fetch(`${baseUrl}/readyz`).catch(() => undefined);
      if (ready?.status === 200) break;
      await sleep(100);
    }

    const token = await signTestToken('shutdown');
    const calls: Call[] = [];
    let nextId = 0;
    let signalledAt = Number.POSITIVE_INFINITY;
    // Each worker writes one node per call, back to back, until a call is refused.
    const worker = async () => {
      const client = await connectClient('http', baseUrl, token);
      for (;;) {
        const id = nextId++;
        const startedAt = Date.now();
        try {
          const outcome = await callTool(client, 'falkordb_query', { graphName: 'acks', query: SLOW_WRITE, parameters: { id } });
          calls.push({ id, startedAt, endedAt: Date.now(), ok: outcome.ok, ...(outcome.ok ? {} : { failure: outcome.text }) });
          if (!outcome.ok) break;
        } catch (error) {
          calls.push({ id, startedAt, endedAt: Date.now(), ok: false, failure: String(error) });
          break;
        }
      }
      await client.close().catch(() => undefined);
    };
    const workers = [worker(), worker(), worker(), worker()];
    while (calls.filter((c) => c.ok).length < 4) await sleep(50);
    signalledAt = Date.now();
    child.kill('SIGTERM');
    await Promise.all(workers);
    assert.equal(await exited, 0, stderr);

    // Calls caught in flight by the signal were finished, not cut off.
    const finishedInFlight = calls.filter((c) => c.ok && c.startedAt < signalledAt && c.endedAt > signalledAt);
    assert.ok(finishedInFlight.length > 0, `no call was in flight at SIGTERM: ${JSON.stringify(calls)}`);
    // Every refusal was a clean one: a closed connection or a 503, never a tool error from a half-done call.
    for (const call of calls.filter((c) => !c.ok)) {
      assert.ok(call.endedAt >= signalledAt, `call ${call.id} failed before the signal: ${call.failure}`);
      assert.match(call.failure ?? '', /fetch failed|ECONNREFUSED|ECONNRESET|socket|503|shutting down|other side closed|terminated/i, call.failure);
    }
    // Every acknowledged write is in the database.
    const direct = await connectDatabase({ url: db.url, connectTimeoutMs: 5000, logger: testLogger() });
    try {
      const reply = await direct.sendCommand(['GRAPH.RO_QUERY', 'shutdown_acks', 'MATCH (a:Ack) RETURN a.id ORDER BY a.id']);
      const stored = new Set((((reply as unknown[])[1] ?? []) as unknown[][]).map((row) => Number(row[0])));
      for (const call of calls.filter((c) => c.ok)) assert.ok(stored.has(call.id), `acknowledged write ${call.id} is missing`);
    } finally {
      await direct.close();
    }
  });
});
