// `tenant move` against two real FalkorDB servers (the shared one and a target) and a
// gateway serving both: the moving tenant's MCP client writes and reads all along, a
// bystander tenant reads, and afterwards each server is checked directly. Also a move
// killed half-way (SIGKILL), and the refusals that change nothing.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { connectDatabase } from '../src/falkordb/connection.js';
import { scanKeys, type Database } from '../src/falkordb/database.js';
import { GraphClient } from '../src/falkordb/graphs.js';
import type { RunningGateway } from '../src/main.js';
import { StateStore } from '../src/state/store.js';
import { TenantRegistry, type TenantRecord } from '../src/state/tenants.js';
import { tenantGraphKey, tenantKeyPrefix } from '../src/tenancy/keys.js';
import { MOVE_LEASE_MS, type MoveSummary } from '../src/transfer/move.js';
import { SCRATCH_PREFIX } from '../src/transfer/scratch-key.js';
import { runCli, runCliJson, type Finished } from './support/cli.js';
import { startTestFalkorDB, testLogger, type TestFalkorDB } from './support/falkordb.js';
import { startTestGateway } from './support/gateway.js';
import { callTool, CLI_ENTRY, connectClient, mustCall, REPO_ROOT } from './support/mcp.js';
import { TEST_SECRET, signTestToken } from './support/tokens.js';
import { waitFor } from './support/topology.js';

const TARGET = 'dedicated-1';
// The loops call as fast as they can: no rate limit in the way.
const PLACEMENT_ENV = { DATABASE_TARGETS: TARGET, QUERY_TIMEOUT_MS: '2000', RATE_LIMIT_PER_MINUTE: '0' };

let shared: TestFalkorDB;
let dedicated: TestFalkorDB;
let onShared: Database;
let onTarget: Database;
let registry: TenantRegistry;
let gateway: RunningGateway;
let cliEnv: Record<string, string>;
const clients: Client[] = [];
const children = new Set<ChildProcess>();

before(async () => {
  [shared, dedicated] = await Promise.all([startTestFalkorDB(), startTestFalkorDB()]);
  const logger = testLogger();
  [onShared, onTarget] = await Promise.all([connectDatabase({ url: shared.url, connectTimeoutMs: 5000, logger }), connectDatabase({ url: dedicated.url, connectTimeoutMs: 5000, logger })]);
  registry = new TenantRegistry(new StateStore(onShared));
  const env = { ...PLACEMENT_ENV, DATABASE_TARGET_DEDICATED_1_URL: dedicated.url };
  gateway = await startTestGateway(shared.url, env);
  cliEnv = { FALKORDB_URL: shared.url, AUTH_JWT_SECRET: TEST_SECRET, LOG_LEVEL: 'silent', ...env };
});

after(async () => {
  for (const child of children) child.kill('SIGKILL');
  await Promise.allSettled(clients.map((c) => c.close()));
  await gateway?.stop();
  await Promise.allSettled([onShared?.close(), onTarget?.close()]);
  await Promise.allSettled([shared?.cleanup(), dedicated?.cleanup()]);
});

async function client(tenant: string): Promise<Client> {
  const made = await connectClient('http', gateway.url, await signTestToken(tenant));
  clients.push(made);
  return made;
}

async function run(db: Database, key: string, query: string): Promise<Array<Record<string, unknown>>> {
  return (await new GraphClient(db).query({ key, query, readOnly: false, timeoutMs: 2000, maxRows: 1_000_000 })).rows;
}

/** The tenant's graph keys on a server. */
function keysOf(db: Database, tenant: string): Promise<string[]> {
  return new GraphClient(db).listKeys(tenantKeyPrefix(tenant));
}

/** Scratch graphs (export snapshots, half-copied graphs) on a server. */
function scratchOn(db: Database): Promise<string[]> {
  return scanKeys(db, { match: `${SCRATCH_PREFIX}*`, type: 'graphdata' });
}

/** A `tenant move` child process, with `onProgress` called on each line it writes to stderr. */
function startMove(args: string[], onProgress: (line: string) => void = () => {}): { child: ChildProcess; done: Promise<Finished> } {
  const child = spawn(process.execPath, ['--import', import.meta.resolve('tsx'), CLI_ENTRY, 'tenant', 'move', ...args], { cwd: REPO_ROOT, env: { PATH: process.env.PATH ?? '', ...cliEnv } });
  children.add(child);
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr?.on('data', (d: Buffer) => {
    const before = stderr.length;
    stderr += d.toString();
    for (const line of stderr.slice(stderr.lastIndexOf('\n', before - 1) + 1).split('\n').slice(0, -1)) onProgress(line);
  });
  child.stdin?.end();
  const done = new Promise<Finished>((resolve) =>
    child.on('close', (code) => {
      children.delete(child);
      resolve({ code, stdout, stderr });
    }),
  );
  return { child, done };
}

interface WriteLog {
  acknowledged: number[];
  refusals: number;
  firstRefusal: number | undefined;
  lastRefusal: number | undefined;
  otherFailures: string[];
}

/** Creates `(:W {i})` with i = 0, 1, 2, … until stopped, retrying a TENANT_MOVING refusal as a client would. */
function writeLoop(mcp: Client, graphName: string): { written(): number; stop(): Promise<WriteLog> } {
  const log: WriteLog = { acknowledged: [], refusals: 0, firstRefusal: undefined, lastRefusal: undefined, otherFailures: [] };
  let stopped = false;
  const loop = (async () => {
    for (let i = 0; !stopped; ) {
      const outcome = await callTool(mcp, 'falkordb_query', { graphName, query: 'CREATE (:W {i: $i})', parameters: { i } }).catch((error: unknown) => ({ ok: false, text: String(error), error: undefined }));
      if (outcome.ok) {
        log.acknowledged.push(i);
        i += 1;
        // Paced: the SDK client's transport keeps an abort listener per request for a while.
        await new Promise((r) => setTimeout(r, 25));
      } else if (outcome.error?.code === 'TENANT_MOVING') {
        log.refusals += 1;
        log.firstRefusal ??= Date.now();
        log.lastRefusal = Date.now();
        await new Promise((r) => setTimeout(r, 100));
      } else {
        log.otherFailures.push(outcome.text);
        await new Promise((r) => setTimeout(r, 100));
      }
    }
  })();
  return {
    written: () => log.acknowledged.length,
    stop: async () => {
      stopped = true;
      await loop;
      return log;
    },
  };
}

/** Reads `query` on `graphName` until stopped; every failure is kept. */
function readLoop(mcp: Client, graphName: string, query: string): { stop(): Promise<{ reads: number; failures: string[] }> } {
  const result = { reads: 0, failures: [] as string[] };
  let stopped = false;
  const loop = (async () => {
    while (!stopped) {
      const outcome = await callTool(mcp, 'falkordb_query', { graphName, query, readOnly: true }).catch((error: unknown) => ({ ok: false, text: String(error) }));
      if (outcome.ok) result.reads += 1;
      else result.failures.push(outcome.text);
      await new Promise((r) => setTimeout(r, 50));
    }
  })();
  return {
    stop: async () => {
      stopped = true;
      await loop;
      return result;
    },
  };
}

/** The `i` of every W node of the graph, sorted. */
async function writtenIds(db: Database, tenant: string, graph: string): Promise<number[]> {
  return (await run(db, tenantGraphKey(tenant, graph), 'MATCH (w:W) RETURN w.i AS i ORDER BY i')).map((r) => Number(r['i']));
}

/** A move under a write loop of `tenant` and read loops of it and of the bystander; checks what the callers saw. */
async function moveUnderLoad(tenant: string, bystander: string, to: string, during?: () => Promise<void>): Promise<{ summary: MoveSummary; written: number[]; refusals: number; pauseMs: number }> {
  const [mover, watcher] = [await client(tenant), await client(bystander)];
  const writes = writeLoop(mover, 'main');
  const ownReads = readLoop(mover, 'side', 'MATCH (p:Person)-[:KNOWS]->(q) RETURN count(q) AS n');
  const bystanderReads = readLoop(watcher, 'data', 'MATCH (n) RETURN count(n) AS n');
  await waitFor('the first writes', () => (writes.written() > 0 ? true : undefined), 30_000);
  const move = startMove([tenant, '--to', to, '--json']);
  await during?.();
  const finished = await move.done;
  const log = await writes.stop();
  const [own, other] = [await ownReads.stop(), await bystanderReads.stop()];
  assert.equal(finished.code, 0, finished.stderr);
  assert.deepEqual(log.otherFailures, [], 'writes were refused only as TENANT_MOVING');
  assert.deepEqual(own.failures, [], "the moving tenant's reads never failed");
  assert.deepEqual(other.failures, [], "the bystander's reads never failed");
  assert.ok(own.reads > 0 && other.reads > 0);
  return { summary: JSON.parse(finished.stdout) as MoveSummary, written: log.acknowledged, refusals: log.refusals, pauseMs: (log.lastRefusal ?? 0) - (log.firstRefusal ?? 0) };
}

describe('tenant move', () => {
  before(async () => {
    await registry.add({ id: 'acme' });
    await registry.add({ id: 'bystander' });
    await run(onShared, tenantGraphKey('acme', 'main'), 'CREATE (:Seed)');
    await run(onShared, tenantGraphKey('acme', 'side'), "CREATE (:Person {name: 'ann'})-[:KNOWS {since: 2020}]->(:Person {name: 'bob'}), (:Person {name: 'cy'})");
    await run(onShared, tenantGraphKey('acme', 'side'), 'CREATE INDEX FOR (p:Person) ON (p.name)');
    await run(onShared, tenantGraphKey('bystander', 'data'), 'UNWIND range(1, 50) AS i CREATE (:Row {i: i})');
  });

  it('moves a tenant to a target while it writes and reads: every acknowledged write arrives, nothing stays behind, the bystander never notices', async (t) => {
    const { summary, written, refusals, pauseMs } = await moveUnderLoad('acme', 'bystander', TARGET);
    t.diagnostic(`${written.length} writes acknowledged, ${refusals} refused as TENANT_MOVING over ${pauseMs} ms; the move reports writes paused ${summary.writesPausedMs} ms, took ${summary.tookMs} ms`);
    assert.ok(written.length > 0);
    assert.deepEqual(await writtenIds(onTarget, 'acme', 'main'), written, 'exactly the acknowledged writes are on the target');
    assert.deepEqual((await keysOf(onTarget, 'acme')).sort(), [tenantGraphKey('acme', 'main'), tenantGraphKey('acme', 'side')].sort());
    assert.deepEqual(await keysOf(onShared, 'acme'), [], 'nothing of the tenant is left on the shared server');
    assert.deepEqual(await scratchOn(onShared), []);
    assert.deepEqual(await scratchOn(onTarget), []);
    const side = await run(onTarget, tenantGraphKey('acme', 'side'), 'MATCH (p:Person)-[k:KNOWS]->(q) RETURN p.name AS p, k.since AS since, q.name AS q');
    assert.deepEqual(side, [{ p: 'ann', since: 2020, q: 'bob' }]);
    const indexes = await run(onTarget, tenantGraphKey('acme', 'side'), 'CALL db.indexes() YIELD label, properties RETURN label, properties');
    assert.deepEqual(indexes, [{ label: 'Person', properties: ['name'] }]);
    assert.equal((await keysOf(onShared, 'bystander')).length, 1, "the bystander's graph stays on the shared server");
    assert.deepEqual(await keysOf(onTarget, 'bystander'), []);

    assert.equal(summary.from, 'default');
    assert.equal(summary.to, TARGET);
    assert.deepEqual(summary.graphs.map((g) => g.name), ['main', 'side']);
    assert.ok(summary.writesPausedMs > 0);
    const record = await registry.mustGet('acme');
    assert.equal(record.database, TARGET);
    assert.equal(record.move, undefined);
    const shown = await runCli(['tenant', 'show', 'acme'], cliEnv);
    assert.match(shown.stdout, /database:\s+dedicated-1\n/);
    const audit = await runCli(['audit', 'tail', '--tenant', 'acme', '--json'], cliEnv);
    assert.match(audit.stdout, /moved from default to dedicated-1, 2 graph\(s\)/);

    // The tenant's client goes on, now on the target.
    const mover = await client('acme');
    await mustCall(mover, 'falkordb_query', { graphName: 'main', query: 'CREATE (:W {i: -1})' });
    assert.equal((await writtenIds(onTarget, 'acme', 'main'))[0], -1);
    assert.deepEqual((await mustCall(mover, 'falkordb_list_graphs'))['graphs'], ['main', 'side']);
  });

  it('moves it back to the shared database, and refuses a second move while one runs', async (t) => {
    await run(onTarget, tenantGraphKey('acme', 'main'), 'MATCH (w:W) DELETE w');
    const before = await registry.mustGet('acme');
    let second: Finished | undefined;
    const { summary, written, refusals, pauseMs } = await moveUnderLoad('acme', 'bystander', 'default', async () => {
      await waitFor('the move to start', async () => ((await registry.mustGet('acme')).move === undefined ? undefined : true), 60_000);
      second = await runCli(['tenant', 'move', 'acme', '--to', 'default'], cliEnv);
    });
    t.diagnostic(`${written.length} writes acknowledged, ${refusals} refused over ${pauseMs} ms; writes paused ${summary.writesPausedMs} ms`);
    assert.equal(second?.code, 1);
    assert.match(second?.stderr ?? '', /^falkordb-mcp-gateway: Tenant "acme" is being moved already \(to default, since [^)]+\); wait for that move to end/);
    assert.deepEqual(await writtenIds(onShared, 'acme', 'main'), written);
    assert.deepEqual(await keysOf(onTarget, 'acme'), []);
    assert.deepEqual(await scratchOn(onTarget), []);
    assert.deepEqual(await scratchOn(onShared), []);
    const after = await registry.mustGet('acme');
    assert.equal(after.database, undefined);
    assert.ok(after.updatedAt > before.updatedAt);
    assert.match((await runCli(['tenant', 'show', 'acme'], cliEnv)).stdout, /database:\s+default \(the shared database\)\n/);
  });
});

describe('a tenant move killed half-way', () => {
  const BIG = 40_000;

  before(async () => {
    await registry.add({ id: 'halfway' });
    // Big enough that copying it takes a moment: in pairs, each joined by a relationship.
    for (let from = 0; from < BIG; from += 4000) {
      await run(onShared, tenantGraphKey('halfway', 'big'), `UNWIND range(${from / 2}, ${(from + 4000) / 2 - 1}) AS i CREATE (:N {i: 2 * i, label: 'node ' + toString(i)})-[:NEXT {i: i}]->(:N {i: 2 * i + 1})`);
    }
  });

  /** Starts a move of `halfway` and SIGKILLs it on its first progress line matching `when`; returns the move's id. */
  async function killMoveWhen(when: RegExp): Promise<string> {
    let kill: () => void = () => {};
    const seen = new Promise<void>((resolve) => (kill = resolve));
    const move = startMove(['halfway', '--to', TARGET], (line) => {
      if (when.test(line)) kill();
    });
    await Promise.race([seen, move.done.then((f) => assert.fail(`the move ended before it could be killed: ${f.stderr}`))]);
    move.child.kill('SIGKILL');
    await move.done;
    const record = await registry.mustGet('halfway');
    assert.ok(record.move !== undefined, 'the killed move is still in the record, until its lease runs out');
    return record.move.id;
  }

  async function assertServedFromShared(): Promise<void> {
    const record: TenantRecord = await registry.mustGet('halfway');
    assert.equal(record.database, undefined);
    assert.deepEqual(await keysOf(onTarget, 'halfway'), [], 'nothing of the tenant under its keys on the target');
    const mcp = await client('halfway');
    const count = await mustCall(mcp, 'falkordb_query', { graphName: 'big', query: 'MATCH (n:N) RETURN count(n) AS n', readOnly: true });
    assert.deepEqual(count['rows'], [{ n: BIG }]);
  }

  it('leaves the tenant on its database, with every write going through, when killed during the copy', async () => {
    const killed = await killMoveWhen(/graph "big": copying to dedicated-1/);
    await assertServedFromShared();
    const mcp = await client('halfway');
    await mustCall(mcp, 'falkordb_query', { graphName: 'big', query: 'CREATE (:Late {at: 1})' });
    assert.equal((await run(onShared, tenantGraphKey('halfway', 'big'), 'MATCH (l:Late) RETURN count(l) AS n'))[0]?.['n'], 1);
    assert.ok((await scratchOn(onTarget)).every((key) => key.startsWith(`${SCRATCH_PREFIX}${killed}:`)), 'only scratch graphs of the killed move are left');
    await waitFor('the killed move to run out', async () => ((await registry.mustGet('halfway')).move!.until <= Date.now() ? true : undefined), MOVE_LEASE_MS * 3);
  });

  it('pauses writes only until the lease runs out when killed during the switch-over, and a new move then succeeds and cleans up', async (t) => {
    const killed = await killMoveWhen(/switching over/);
    const mcp = await client('halfway');
    const refused = await callTool(mcp, 'falkordb_query', { graphName: 'big', query: 'CREATE (:Late {at: 2})' });
    assert.equal(refused.error?.code, 'TENANT_MOVING', refused.text);
    const killedAt = Date.now();
    await waitFor('writes to go through again', async () => ((await callTool(mcp, 'falkordb_query', { graphName: 'big', query: 'CREATE (:Late {at: 2})' })).ok ? true : undefined), MOVE_LEASE_MS * 3);
    t.diagnostic(`writes went through again ${Date.now() - killedAt} ms after the kill (lease ${MOVE_LEASE_MS} ms)`);
    await assertServedFromShared();
    assert.ok((await scratchOn(onShared)).length + (await scratchOn(onTarget)).length > 0, 'the killed move left scratch graphs behind');

    const moved = await runCliJson<MoveSummary>(['tenant', 'move', 'halfway', '--to', TARGET, '--json', '--quiet'], cliEnv);
    assert.deepEqual(moved.graphs.map((g) => [g.name, g.nodes]), [['big', BIG + 2]]);
    assert.deepEqual(await keysOf(onShared, 'halfway'), []);
    assert.deepEqual(await keysOf(onTarget, 'halfway'), [tenantGraphKey('halfway', 'big')]);
    const left = [...(await scratchOn(onShared)), ...(await scratchOn(onTarget))];
    assert.deepEqual(left.filter((key) => key.startsWith(`${SCRATCH_PREFIX}${killed}:`)), [], "the new move dropped the killed one's scratch graphs");
    const count = await mustCall(mcp, 'falkordb_query', { graphName: 'big', query: 'MATCH (n) RETURN count(n) AS n', readOnly: true });
    assert.deepEqual(count['rows'], [{ n: BIG + 2 }]);
  });
});

describe('tenant move refusals', () => {
  before(async () => {
    await registry.add({ id: 'stays' });
    await run(onShared, tenantGraphKey('stays', 'g'), 'CREATE (:X)');
  });

  async function assertRefused(args: string[], message: RegExp): Promise<void> {
    const before = await registry.mustGet('stays');
    const done = await runCli(['tenant', 'move', ...args], cliEnv);
    assert.equal(done.code, 1, done.stderr);
    assert.match(done.stderr, /^falkordb-mcp-gateway: [^\n]+\n$/);
    assert.match(done.stderr, message);
    assert.equal(done.stdout, '');
    assert.deepEqual(await registry.mustGet('stays'), before, 'the record is unchanged');
    assert.deepEqual(await keysOf(onShared, 'stays'), [tenantGraphKey('stays', 'g')]);
    assert.deepEqual(await keysOf(onTarget, 'stays'), []);
  }

  it('refuses a target the configuration does not name', () => assertRefused(['stays', '--to', 'nowhere'], /no database target "nowhere" in this configuration \(DATABASE_TARGETS names dedicated-1\)/));

  it('refuses to move a tenant to where it is', () => assertRefused(['stays', '--to', 'default'], /Tenant "stays" is on default already; nothing was moved/));

  it('refuses a tenant that is not registered', () => assertRefused(['ghost', '--to', TARGET], /No tenant "ghost" is registered/));
});

describe('a tenant move onto graphs an earlier failed move left', () => {
  before(async () => {
    await registry.add({ id: 'leftover' });
    await run(onShared, tenantGraphKey('leftover', 'g'), "CREATE (:X {from: 'shared'})");
    await run(onTarget, tenantGraphKey('leftover', 'g'), "CREATE (:X {from: 'an earlier move'})");
    await run(onTarget, tenantGraphKey('leftover', 'orphan'), 'CREATE (:Y)');
  });

  it('says so, and replaces them with the tenant graphs it copies', async () => {
    const done = await runCli(['tenant', 'move', 'leftover', '--to', TARGET, '--json'], cliEnv);
    assert.equal(done.code, 0, done.stderr);
    assert.match(done.stderr, /dedicated-1 holds 2 graph\(s\) of tenant "leftover" \(g, orphan\) left by an earlier move that failed/);
    assert.deepEqual((JSON.parse(done.stdout) as MoveSummary).leftovers, ['g', 'orphan']);
    assert.deepEqual(await keysOf(onTarget, 'leftover'), [tenantGraphKey('leftover', 'g')]);
    assert.deepEqual(await run(onTarget, tenantGraphKey('leftover', 'g'), 'MATCH (x) RETURN x.from AS from'), [{ from: 'shared' }]);
    assert.deepEqual(await keysOf(onShared, 'leftover'), []);
  });

  it('prints a summary for people: graphs, counts, the write pause, where the tenant is served from', async () => {
    const done = await runCli(['tenant', 'move', 'leftover', '--to', 'default', '--quiet'], cliEnv);
    assert.equal(done.code, 0, done.stderr);
    assert.equal(done.stderr, '', '--quiet: no progress');
    assert.match(done.stdout, /^GRAPH +NODES +RELATIONSHIPS +INDEXES +CONSTRAINTS\ng +1 +0 +0 +0\n/);
    assert.match(done.stdout, /Moved tenant "leftover" from dedicated-1 to default: 1 graph\(s\), 1 nodes, 0 relationships, in \d+\.\d s\./);
    assert.match(done.stdout, /Writes were paused for \d+\.\d s at the switch-over \(refused as TENANT_MOVING, retryable\); reads went on throughout\./);
    assert.match(done.stdout, /Every gateway instance serves the tenant from default within 1 second; its graphs on dedicated-1 were deleted\.\n$/);
    assert.deepEqual(await keysOf(onTarget, 'leftover'), []);
  });
});
