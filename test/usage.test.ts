// Per-tenant usage counters shared by two gateway instances on one FalkorDB:
// what `tenant usage` prints, what server_info and health tell a tenant, and
// readiness across a FalkorDB outage.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import type { RunningGateway } from '../src/main.js';
import { utcDay } from '../src/observability/usage-counters.js';
import type { UsageRow } from '../src/observability/usage-read.js';
import { stateKeys } from '../src/state/keys.js';
import { runCli, runCliJson } from './support/cli.js';
import { startTestFalkorDB, type TestFalkorDB } from './support/falkordb.js';
import { startTestGateway } from './support/gateway.js';
import { callTool, connectClient, mustCall } from './support/mcp.js';
import { TEST_SECRET, signTestToken } from './support/tokens.js';

let db: TestFalkorDB;
let first: RunningGateway;
let second: RunningGateway;
let cliEnv: Record<string, string>;
const clients: Client[] = [];

const GATEWAY_ENV = { RATE_LIMIT_PER_MINUTE: '600', RATE_LIMIT_PLANS: 'pro=1234', MAX_CONCURRENT_QUERIES_PER_TENANT: '5' };
/** An MCP client's connect is two requests: initialize, then the initialized notification. */
const CONNECT_REQUESTS = 2;

async function clientOf(gw: RunningGateway, tenant: string): Promise<Client> {
  const c = await connectClient('http', gw.url, await signTestToken(tenant));
  clients.push(c);
  return c;
}

const flushBoth = () => Promise.all([first.usage.flush(), second.usage.flush()]);

/** The counters summed over the rows: two days when a test runs across midnight (UTC). */
function total(rows: readonly UsageRow[]): Omit<UsageRow, 'tenant' | 'day'> {
  const sum = { requests: 0, queries: 0, writes: 0, errors: 0, rows: 0, queryMs: 0 };
  for (const row of rows) for (const field of Object.keys(sum) as Array<keyof typeof sum>) sum[field] += row[field];
  return sum;
}

/** Polls until `check` holds; gives up after `tries` rounds of `everyMs`. */
async function eventually(check: () => Promise<boolean>, tries = 300, everyMs = 200): Promise<boolean> {
  for (let i = 0; i < tries; i++) {
    if (await check().catch(() => false)) return true;
    await sleep(everyMs);
  }
  return false;
}

/** The durationMs of each falkordb_query call of the tenant, as the instances filed it in the audit trail. */
async function auditedQueryMs(tenant: string): Promise<number[]> {
  await Promise.all([first.state.audit.flush(), second.state.audit.flush()]);
  const entries = (await first.state.store.command(['XRANGE', stateKeys.tenantAudit(tenant), '-', '+'])) as Array<[string, string[]]>;
  const events = entries.map(([, flat]) => Object.fromEntries(flat.flatMap((v, i) => (i % 2 === 0 ? [[v, flat[i + 1]]] : []))) as Record<string, string>);
  return events.filter((e) => e.tool === 'falkordb_query').map((e) => Number(e.durationMs));
}

/** Each duration is kept to the microsecond, and so is their sum. */
function assertSumOf(queryMs: number, durations: readonly number[]): void {
  const sum = durations.reduce((a, b) => a + b, 0);
  assert.ok(Math.abs(queryMs - sum) <= 0.001 * (durations.length + 1), `queryMs ${queryMs} is the sum of the calls' ${durations.join(' + ')} = ${sum}`);
}

const readyStatus = (gw: RunningGateway) => fetch(`${gw.url}/readyz`).then(async (r) => ({ status: r.status, body: (await r.json()) as Record<string, unknown> }));

before(async () => {
  db = await startTestFalkorDB();
  first = await startTestGateway(db.url, GATEWAY_ENV);
  second = await startTestGateway(db.url, GATEWAY_ENV);
  cliEnv = { FALKORDB_URL: db.url, LOG_LEVEL: 'silent', AUTH_JWT_SECRET: TEST_SECRET };
});

after(async () => {
  await Promise.allSettled(clients.map((c) => c.close()));
  await second?.stop();
  await first?.stop();
  await db?.cleanup();
});

describe('daily usage counters', () => {
  const tenant = 'usage-counted';
  /** The database's own execution time of a query that runs a 200,000-step loop. */
  let loopExecutionMs = 0;

  before(async () => {
    const a = await clientOf(first, tenant);
    const b = await clientOf(second, tenant);
    const created = await mustCall(a, 'falkordb_query', { graphName: 'g', query: 'CREATE (:N {v: 1}), (:N {v: 2})' });
    const read = await mustCall(a, 'falkordb_query', { graphName: 'g', query: 'MATCH (n:N) RETURN n.v AS v' });
    assert.equal((await callTool(a, 'falkordb_query', { graphName: 'g', query: 'THIS IS NOT CYPHER' })).ok, false);
    await mustCall(b, 'falkordb_query', { graphName: 'g', query: 'MATCH (n:N) RETURN n.v AS v ORDER BY v' });
    await mustCall(b, 'falkordb_list_graphs');
    assert.equal((await callTool(b, 'falkordb_query', { graphName: 'g', query: 'CREATE (:N)', readOnly: true })).ok, false);
    const loop = await mustCall(b, 'falkordb_query', { graphName: 'g', query: 'UNWIND range(1, 200000) AS x RETURN sum(x) AS s' });
    assert.deepEqual(loop.rows, [{ s: 20000100000 }]);
    loopExecutionMs = Number(loop.executionTimeMs);
    assert.ok(loopExecutionMs > 0 && Number(created.executionTimeMs) > 0 && Number(read.executionTimeMs) > 0, 'FalkorDB reports its execution times');
    await flushBoth();
  });

  it('adds up the calls made through both instances', async () => {
    const rows = await runCliJson<UsageRow[]>(['tenant', 'usage', '--tenant', tenant, '--days', '2', '--json'], cliEnv);
    assert.ok(rows.length >= 1 && rows.every((r) => r.tenant === tenant), JSON.stringify(rows));
    const sum = total(rows);
    assert.deepEqual({ ...sum, queryMs: 0 }, { requests: 2 * CONNECT_REQUESTS + 7, queries: 6, writes: 1, errors: 2, rows: 5, queryMs: 0 });
  });

  it("counts as queryMs the sum of the falkordb_query calls' own times, failed ones included, and nothing else", async () => {
    const rows = await runCliJson<UsageRow[]>(['tenant', 'usage', '--tenant', tenant, '--days', '2', '--json'], cliEnv);
    const durations = await auditedQueryMs(tenant);
    assert.equal(durations.length, 6, 'one audit event per falkordb_query call');
    assert.ok(durations.every((ms) => Number.isFinite(ms) && ms > 0), `every call took a measured, positive time: ${durations.join(', ')}`);
    assertSumOf(total(rows).queryMs, durations);
    // A call's time is the gateway's, which includes the database's own execution time.
    assert.ok(Math.max(...durations) >= loopExecutionMs, `the loop's call took at least its ${loopExecutionMs} ms in the database`);
  });

  it('prints each row as {tenant, day, requests, queries, writes, errors, rows, queryMs}, newest day first', async () => {
    const rows = await runCliJson<UsageRow[]>(['tenant', 'usage', '--tenant', tenant, '--json'], cliEnv);
    for (const row of rows) assert.deepEqual(Object.keys(row), ['tenant', 'day', 'requests', 'queries', 'writes', 'errors', 'rows', 'queryMs']);
    assert.ok(rows.length > 0);
    const days = rows.map((r) => r.day);
    assert.deepEqual(days, [...days].sort().reverse());
  });

  it('shows the counters in a table of tenant × day', async () => {
    const done = await runCli(['tenant', 'usage', '--tenant', tenant], cliEnv);
    assert.equal(done.code, 0, done.stderr);
    // The daily table comes first; the storage table follows after a blank line.
    const lines = (done.stdout.split('\n\n')[0] ?? '').trim().split('\n');
    assert.deepEqual(lines[0]?.split(/\s{2,}/), ['TENANT', 'DAY', 'REQUESTS', 'QUERIES', 'WRITES', 'ERRORS', 'ROWS', 'QUERY MS']);
    const cells = lines.slice(1).map((line) => line.split(/\s+/));
    assert.ok(cells.every((c) => c[0] === tenant && /^\d{4}-\d\d-\d\d$/.test(c[1] ?? '')), done.stdout);
    const column = (i: number) => cells.reduce((sum, c) => sum + Number(c[i]), 0);
    assert.deepEqual([2, 3, 4, 5, 6].map(column), [2 * CONNECT_REQUESTS + 7, 6, 1, 2, 5]);
    const json = await runCliJson<UsageRow[]>(['tenant', 'usage', '--tenant', tenant, '--json'], cliEnv);
    assert.deepEqual(cells.map((c) => c[7]), json.map((r) => r.queryMs.toFixed(1)), 'QUERY MS is queryMs to a tenth of a millisecond');
  });

  it('lists every tenant with usage, and registered tenants without any, when no tenant is named', async () => {
    await first.state.tenants.add({ id: 'usage-idle' });
    const other = await clientOf(second, 'usage-other');
    await mustCall(other, 'falkordb_list_graphs');
    await flushBoth();
    const rows = await runCliJson<UsageRow[]>(['tenant', 'usage', '--json'], cliEnv);
    const tenants = new Set(rows.map((r) => r.tenant));
    assert.ok(tenants.has(tenant) && tenants.has('usage-other'), JSON.stringify([...tenants]));
    assert.ok(!tenants.has('usage-idle'));
    const table = await runCli(['tenant', 'usage'], cliEnv);
    assert.equal(table.code, 0, table.stderr);
    assert.match(table.stdout, /^usage-other\s+\d{4}-/m);
    assert.match(table.stdout, /No usage in the last 30 days \(UTC\): .*usage-idle/);
  });

  it('refuses a --days that is not a whole number of days', async () => {
    const done = await runCli(['tenant', 'usage', '--days', 'soon'], cliEnv);
    assert.equal(done.code, 2);
    assert.match(done.stderr, /--days must be a whole number/);
  });
});

describe('falkordb_server_info', () => {
  it("shows the caller's usage today, its unflushed calls included, and its limits", async () => {
    const dayBefore = utcDay(Date.now());
    await first.state.tenants.add({ id: 'usage-pro', plan: 'pro' });
    const c = await clientOf(first, 'usage-pro');
    await mustCall(c, 'falkordb_query', { graphName: 'p', query: 'CREATE (:P) RETURN 1 AS one' });
    const info = await mustCall(c, 'falkordb_server_info');
    const usage = info.usageToday as Record<string, number>;
    // The server_info request itself is counted; its tool call ends after the answer is built.
    const expected = { requests: CONNECT_REQUESTS + 2, queries: 1, writes: 1, errors: 0, rows: 1 };
    const actual = { requests: usage.requests, queries: usage.queries, writes: usage.writes, errors: usage.errors, rows: usage.rows };
    if (utcDay(Date.now()) === dayBefore) assert.deepEqual(actual, expected);
    else for (const [field, value] of Object.entries(actual)) assert.ok(value! <= expected[field as keyof typeof expected], 'a new day began mid-test');
    // The one query's own time, not yet flushed: what the audit trail filed for it.
    assertSumOf(usage.queryMs!, await auditedQueryMs('usage-pro'));
    assert.ok(usage.queryMs! > 0);
    const limits = info.limits as Record<string, unknown>;
    assert.deepEqual(Object.keys(limits), ['queryTimeoutMs', 'maxRows', 'maxQueryLength', 'loadCsvAllowed', 'ratePerMinute', 'maxConcurrentQueries']);
    assert.equal(limits.ratePerMinute, 1234);
    assert.equal(limits.maxConcurrentQueries, 5);
  });

  it('shows the default rate for a tenant without a plan', async () => {
    const c = await clientOf(second, 'usage-planless');
    const info = await mustCall(c, 'falkordb_server_info');
    const limits = info.limits as Record<string, unknown>;
    assert.equal(limits.ratePerMinute, 600);
    assert.equal(limits.maxConcurrentQueries, 5);
  });
});

describe('falkordb_health', () => {
  it("reports the caller's graph count and when its last call failed, seen from either instance", async () => {
    const c = await clientOf(first, 'health-one');
    await mustCall(c, 'falkordb_query', { graphName: 'a', query: 'CREATE (:A)' });
    await mustCall(c, 'falkordb_query', { graphName: 'b', query: 'CREATE (:B)' });
    const clean = await mustCall(c, 'falkordb_health');
    assert.equal(clean.graphCount, 2);
    assert.equal(clean.lastErrorAt, null);
    const before = Date.now();
    assert.equal((await callTool(c, 'falkordb_query', { graphName: 'a', query: 'NOT CYPHER AT ALL' })).ok, false);
    const after = Date.now();
    const local = await mustCall(c, 'falkordb_health');
    const at = Date.parse(String(local.lastErrorAt));
    assert.ok(at >= before && at <= after, String(local.lastErrorAt));
    await first.usage.flush();
    const elsewhere = await mustCall(await clientOf(second, 'health-one'), 'falkordb_health');
    assert.equal(elsewhere.lastErrorAt, local.lastErrorAt);
    assert.equal(elsewhere.graphCount, 2);
  });

  it("shows nothing of another tenant's graphs or errors", async () => {
    const c = await clientOf(second, 'health-two');
    const health = await mustCall(c, 'falkordb_health');
    assert.equal(health.tenant, 'health-two');
    assert.equal(health.graphCount, 0);
    assert.equal(health.lastErrorAt, null);
    assert.doesNotMatch(JSON.stringify(health), /health-one/);
  });
});

// Last: these stop the test's FalkorDB.
describe('a FalkorDB outage', () => {
  it('turns /readyz to 503 with a reason while FalkorDB is down, and back to 200 once it is up', async () => {
    assert.equal((await readyStatus(first)).status, 200);
    await db.stop();
    let down = { status: 0, body: {} as Record<string, unknown> };
    assert.ok(await eventually(async () => (down = await readyStatus(first)).status === 503), 'readyz never said 503');
    assert.match(String(down.body.reason), /database/i);
    await db.restart();
    assert.ok(await eventually(async () => (await readyStatus(first)).status === 200), 'readyz never said 200 again');
  });

  it('keeps the counts gathered while FalkorDB is down, and writes them once it is back', async () => {
    await db.stop();
    second.usage.request('usage-outage');
    await assert.rejects(second.usage.flush());
    await db.restart();
    assert.ok(await eventually(async () => (await readyStatus(second)).status === 200), 'the gateway never reconnected');
    await second.usage.flush();
    const rows = await runCliJson<UsageRow[]>(['tenant', 'usage', '--tenant', 'usage-outage', '--days', '2', '--json'], cliEnv);
    assert.equal(total(rows).requests, 1);
  });
});
