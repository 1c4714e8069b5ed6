// Admission and request guards through real gateways on one real FalkorDB: the
// per-tenant rate limit shared by instances, per-tenant concurrency caps, body
// and parameter size limits.

import http from 'node:http';
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import type { RunningGateway } from '../src/main.js';
import { startTestFalkorDB, type TestFalkorDB } from './support/falkordb.js';
import { startTestGateway } from './support/gateway.js';
import { probeMcp, type Probe } from './support/http.js';
import { seedGraph } from './support/graphs.js';
import { callTool, connectClient, mustCall, type ToolOutcome } from './support/mcp.js';
import { signTestToken } from './support/tokens.js';

const RATE = 5;
const PRO_RATE = 8;
const MAX_BODY_BYTES = 4096;
const MAX_PARAMETERS_BYTES = 1024;
// Reads no data but keeps a FalkorDB thread busy for seconds (about 3 s on a 2-core test machine);
// one small range unwound twice, since the gateway refuses range() calls building more than
// 10,000,000 elements, counting a range() after an UNWIND once per row.
const SLOW_QUERY = 'WITH range(1, 10000) AS r UNWIND range(1, 6000) AS a UNWIND r AS x WITH x WHERE x < 0 RETURN count(x) AS n';

let db: TestFalkorDB;
let limited: RunningGateway;
let limitedTwin: RunningGateway;
let guarded: RunningGateway;
let capped: RunningGateway;
let tenantCap: number;
const clients: Client[] = [];

async function clientOf(gateway: RunningGateway, tenant: string, kind: 'http' | 'sse-header' = 'http'): Promise<Client> {
  const client = await connectClient(kind, gateway.url, await signTestToken(tenant));
  clients.push(client);
  return client;
}

/** FalkorDB's query threads: a query waits for one, whatever the gateway lets through. */
async function falkordbThreads(gateway: RunningGateway): Promise<number> {
  const reply = await gateway.database.db.sendCommand(['GRAPH.CONFIG', 'GET', 'THREAD_COUNT']);
  return Number((reply as unknown[])[1]);
}

before(async () => {
  db = await startTestFalkorDB();
  const rateEnv = { RATE_LIMIT_PER_MINUTE: String(RATE), RATE_LIMIT_BURST: '0', RATE_LIMIT_PLANS: `pro=${PRO_RATE}` };
  limited = await startTestGateway(db.url, rateEnv);
  limitedTwin = await startTestGateway(db.url, rateEnv);
  guarded = await startTestGateway(db.url, { MAX_BODY_BYTES: String(MAX_BODY_BYTES), MAX_PARAMETERS_BYTES: String(MAX_PARAMETERS_BYTES) });
  // Tenant A must leave FalkorDB a free thread, or B's query would queue inside FalkorDB, behind A's.
  tenantCap = Math.min(2, Math.max(1, (await falkordbThreads(guarded)) - 1));
  capped = await startTestGateway(db.url, {
    MAX_CONCURRENT_QUERIES_PER_TENANT: String(tenantCap),
    MAX_CONCURRENT_QUERIES: '16',
    QUERY_QUEUE_TIMEOUT_MS: '200',
    QUERY_TIMEOUT_MS: '600000',
  });
});

after(async () => {
  await Promise.allSettled(clients.map((c) => c.close()));
  for (const gateway of [capped, guarded, limitedTwin, limited]) await gateway?.stop();
  await db?.cleanup();
});

function assertRateLimited(probe: Probe): void {
  assert.equal(probe.status, 429, `expected 429, got ${probe.status}: ${JSON.stringify(probe.body)}`);
  assert.equal(probe.body.code, 'RATE_LIMITED');
  const retryAfter = Number(probe.headers.get('retry-after'));
  assert.ok(Number.isInteger(retryAfter) && retryAfter >= 1 && retryAfter <= 60, `Retry-After is 1..60 seconds, got ${probe.headers.get('retry-after')}`);
  assert.match(String(probe.body.message), new RegExp(`rate limit of ${RATE} requests per minute.*Retry in ${retryAfter} s`));
  assert.equal(probe.headers.get('ratelimit-limit'), String(RATE));
  assert.equal(probe.headers.get('ratelimit-remaining'), '0');
  assert.equal(probe.headers.get('ratelimit-reset'), String(retryAfter));
}

describe('rate limit', () => {
  it('answers 429 with Retry-After once a tenant is over its rate, and sends RateLimit-* headers until then', async () => {
    const token = await signTestToken('rate-one');
    for (let i = 1; i <= RATE; i++) {
      const ok = await probeMcp(limited.url, token);
      assert.equal(ok.status, 200);
      assert.equal(ok.headers.get('ratelimit-limit'), String(RATE));
      assert.equal(ok.headers.get('ratelimit-remaining'), String(RATE - i));
      const reset = Number(ok.headers.get('ratelimit-reset'));
      assert.ok(reset >= 1 && reset <= 60, `RateLimit-Reset is 1..60 seconds, got ${reset}`);
    }
    assertRateLimited(await probeMcp(limited.url, token));
  });

  it('shares one budget between gateway instances on the same database', async () => {
    const token = await signTestToken('rate-shared');
    const instances = [limited, limitedTwin];
    for (let i = 1; i <= RATE; i++) {
      const ok = await probeMcp(instances[i % 2]!.url, token);
      assert.equal(ok.status, 200);
      // Counted once across both: instance-local counting would restart at RATE - 1 on the second instance.
      assert.equal(ok.headers.get('ratelimit-remaining'), String(RATE - i));
    }
    assertRateLimited(await probeMcp(limited.url, token));
    assertRateLimited(await probeMcp(limitedTwin.url, token));
    // The count lives with the rest of the gateway state, in the database server.
    assert.equal(await limited.database.db.sendCommand(['EXISTS', 'gw:rate:rate-shared']), 1);
  });

  it("leaves another tenant's budget untouched", async () => {
    const flooder = await signTestToken('rate-flooder');
    for (let i = 0; i <= RATE; i++) await probeMcp(limited.url, flooder);
    assertRateLimited(await probeMcp(limited.url, flooder));
    const other = await probeMcp(limited.url, await signTestToken('rate-bystander'));
    assert.equal(other.status, 200);
    assert.equal(other.headers.get('ratelimit-remaining'), String(RATE - 1));
  });

  it("applies the rate of the tenant's plan from RATE_LIMIT_PLANS", async () => {
    await limited.state.tenants.add({ id: 'rate-pro', plan: 'pro' });
    const token = await signTestToken('rate-pro');
    for (let i = 1; i <= PRO_RATE; i++) {
      const ok = await probeMcp(limited.url, token);
      assert.equal(ok.status, 200, `request ${i} of ${PRO_RATE} is within the pro rate`);
      assert.equal(ok.headers.get('ratelimit-limit'), String(PRO_RATE));
    }
    const over = await probeMcp(limited.url, token);
    assert.equal(over.status, 429);
    assert.match(String(over.body.message), new RegExp(`rate limit of ${PRO_RATE} requests per minute`));
  });

  it('refuses a tool call inside an SSE session over the rate with a tool error that says when to retry', async () => {
    // Opening the session is the first request of the budget; each tool call then counts on its own.
    const client = await clientOf(limited, 'rate-sse', 'sse-header');
    for (let i = 2; i <= RATE; i++) await mustCall(client, 'falkordb_list_graphs');
    const refused = await callTool(client, 'falkordb_list_graphs');
    assert.equal(refused.ok, false);
    assert.equal(refused.error?.code, 'RATE_LIMITED');
    assert.match(refused.error?.message ?? '', /Retry in \d+ s/);
  });
});

describe('concurrency caps', () => {
  it("lets tenant B's quick query finish while tenant A's slow queries hold A's slots, and refuses A's excess", async () => {
    const a = await clientOf(capped, 'busy-a');
    const b = await clientOf(capped, 'quiet-b');
    await mustCall(a, 'falkordb_query', { graphName: 'slow', query: 'CREATE (:N)' });
    await mustCall(b, 'falkordb_query', { graphName: 'g', query: 'CREATE (:N {v: 1})' });

    // The cap runs, as many again wait in the queue, and the rest are refused at once.
    const flood = tenantCap * 2 + 2;
    const finished: string[] = [];
    const outcomes: ToolOutcome[] = [];
    let refusedOne!: () => void;
    const firstRefusal = new Promise<void>((resolve) => (refusedOne = resolve));
    const slowCalls = Array.from({ length: flood }, (_, i) =>
      callTool(a, 'falkordb_query', { graphName: 'slow', query: SLOW_QUERY, readOnly: true }).then((outcome) => {
        finished.push(outcome.ok ? `A${i} ok` : `A${i} ${outcome.error?.code}`);
        outcomes.push(outcome);
        if (!outcome.ok) refusedOne();
      }),
    );
    // A refusal means A's slots and queue are full, so A's slow queries are under way before B asks.
    await Promise.race([firstRefusal, Promise.all(slowCalls)]);
    const quick = await mustCall(b, 'falkordb_query', { graphName: 'g', query: 'MATCH (n:N) RETURN n.v AS v' });
    finished.push('B ok');
    await Promise.all(slowCalls);

    assert.deepEqual(quick.rows, [{ v: 1 }]);
    const firstSuccessOfA = finished.findIndex((entry) => /^A\d+ ok$/.test(entry));
    assert.ok(firstSuccessOfA >= 0, `some of A's queries ran: ${finished.join(', ')}`);
    assert.ok(finished.indexOf('B ok') < firstSuccessOfA, `B finished before any of A's slow queries: ${finished.join(', ')}`);
    const refused = outcomes.filter((o) => !o.ok);
    for (const outcome of refused) {
      assert.equal(outcome.error?.code, 'TOO_MANY_QUERIES', outcome.text);
      assert.match(outcome.error?.message ?? '', /Too many concurrent queries .*try again shortly/);
    }
    assert.ok(refused.length >= flood - tenantCap * 2, `A's excess beyond cap and queue was refused: ${finished.join(', ')}`);
    assert.ok(outcomes.length - refused.length >= tenantCap, `A's first ${tenantCap} ran: ${finished.join(', ')}`);
  });
});

describe('size limits', () => {
  it('answers 413 to a request body over MAX_BODY_BYTES', async () => {
    const body = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'ping', params: { pad: 'x'.repeat(MAX_BODY_BYTES) } });
    const response = await fetch(`${guarded.url}/mcp`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${await signTestToken('big-body')}`, 'Content-Type': 'application/json', Accept: 'application/json, text/event-stream' },
      body,
    });
    const answer = (await response.json()) as Record<string, unknown>;
    assert.equal(response.status, 413);
    assert.equal(answer.code, 'BODY_TOO_LARGE');
  });

  it('answers 413 to a chunked body (no Content-Length) once it passes MAX_BODY_BYTES, while the client is still sending', async () => {
    const token = await signTestToken('big-chunked-body');
    const reply = await new Promise<{ status: number; text: string }>((resolve, reject) => {
      const req = http.request(`${guarded.url}/mcp`, {
        method: 'POST',
        headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json', Accept: 'application/json, text/event-stream', 'Transfer-Encoding': 'chunked' },
      });
      req.on('response', (res) => {
        let text = '';
        res.on('data', (chunk: Buffer) => (text += chunk.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
      });
      req.on('error', reject);
      // Sends a kilobyte at a time and never ends the body: the refusal must come without it.
      const chunk = 'x'.repeat(1024);
      let sent = 0;
      const timer = setInterval(() => {
        if (req.destroyed || sent > 64 * MAX_BODY_BYTES) return clearInterval(timer);
        req.write(chunk);
        sent += chunk.length;
      }, 1);
      req.on('close', () => clearInterval(timer));
    });
    assert.equal(reply.status, 413);
    assert.equal((JSON.parse(reply.text) as Record<string, unknown>).code, 'BODY_TOO_LARGE');
  });

  it('refuses parameters over MAX_PARAMETERS_BYTES with PARAMETERS_TOO_LARGE, before the database sees them', async () => {
    const client = await clientOf(guarded, 'big-params');
    const parameters = { blob: 'x'.repeat(MAX_PARAMETERS_BYTES) };
    const size = Buffer.byteLength(JSON.stringify(parameters));
    const refused = await callTool(client, 'falkordb_query', { graphName: 'params', query: 'CREATE (:N {v: $blob})', parameters });
    assert.equal(refused.error?.code, 'PARAMETERS_TOO_LARGE');
    assert.match(refused.error?.message ?? '', new RegExp(`${size} bytes.*limit is ${MAX_PARAMETERS_BYTES} bytes`));
    assert.deepEqual((await mustCall(client, 'falkordb_list_graphs')).graphs, []);
  });

  it('accepts parameters of exactly MAX_PARAMETERS_BYTES', async () => {
    const client = await clientOf(guarded, 'fit-params');
    // {"blob":"…"} is 11 bytes around the value.
    const parameters = { blob: 'x'.repeat(MAX_PARAMETERS_BYTES - 11) };
    assert.equal(Buffer.byteLength(JSON.stringify(parameters)), MAX_PARAMETERS_BYTES);
    await seedGraph(guarded, 'fit-params', 'params');
    const out = await mustCall(client, 'falkordb_query', { graphName: 'params', query: 'RETURN size($blob) AS n', parameters });
    assert.deepEqual(out.rows, [{ n: MAX_PARAMETERS_BYTES - 11 }]);
  });
});
