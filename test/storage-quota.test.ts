// The per-tenant storage quota (TENANT_STORAGE_QUOTA_BYTES): a tenant that fills
// its quota is refused further writes that may add data, keeps its reads and
// deletes, writes again once it has freed room; the other tenants write on.

import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StorageQuota } from '../src/admission/storage-quota.js';
import { connectDatabase } from '../src/falkordb/connection.js';
import type { Database } from '../src/falkordb/database.js';
import { GraphClient } from '../src/falkordb/graphs.js';
import type { RunningGateway } from '../src/main.js';
import { tenantGraphKey } from '../src/tenancy/keys.js';
import { runCli, runCliJson } from './support/cli.js';
import { startTestFalkorDB, testLogger, type TestFalkorDB } from './support/falkordb.js';
import { startTestGateway } from './support/gateway.js';
import { callTool, connectClient, mustCall, type ToolOutcome } from './support/mcp.js';
import { signTestToken, TEST_SECRET } from './support/tokens.js';

const QUOTA_MIB = 6;
const CHECK_MS = 200;
// About 2 MiB of nodes per batch in FalkorDB 4.16 (GRAPH.MEMORY USAGE), so a few batches fill the quota.
const BATCH = 'UNWIND range(1, 20000) AS x CREATE (:Blob {v: x, pad: $pad})';
const PAD = { pad: 'x'.repeat(100) };
const MAX_BATCHES = 40;

let falkordb: TestFalkorDB;
let gateway: RunningGateway;
let workDir: string;
const clients: Client[] = [];

async function clientOf(tenant: string): Promise<Client> {
  const c = await connectClient('http', gateway.url, await signTestToken(tenant, { scope: 'read write admin' }));
  clients.push(c);
  return c;
}

/** Writes batches until one is refused; the refusal, or undefined if every batch passed. */
async function fillUntilRefused(client: Client, graphName: string): Promise<ToolOutcome | undefined> {
  for (let i = 0; i < MAX_BATCHES; i++) {
    const outcome = await callTool(client, 'falkordb_query', { graphName, query: BATCH, parameters: PAD });
    if (!outcome.ok) return outcome;
    // Past the check interval, so the next write sees this one's size.
    await sleep(CHECK_MS + 50);
  }
  return undefined;
}

/** Retries a write until it passes (the quota is measured again after the check interval); its last outcome. */
async function writeWhenAllowed(client: Client, graphName: string, query: string): Promise<ToolOutcome> {
  let outcome = await callTool(client, 'falkordb_query', { graphName, query });
  for (let i = 0; i < 100 && !outcome.ok && outcome.error?.code === 'STORAGE_QUOTA_EXCEEDED'; i++) {
    await sleep(CHECK_MS);
    outcome = await callTool(client, 'falkordb_query', { graphName, query });
  }
  return outcome;
}

before(async () => {
  falkordb = await startTestFalkorDB();
  workDir = await mkdtemp(path.join(os.tmpdir(), 'storage-quota-'));
  gateway = await startTestGateway(falkordb.url, {
    TENANT_STORAGE_QUOTA_BYTES: `${QUOTA_MIB}MiB`,
    TENANT_STORAGE_CHECK_MS: String(CHECK_MS),
    RATE_LIMIT_PER_MINUTE: '0',
  });
});

after(async () => {
  await Promise.allSettled(clients.map((c) => c.close()));
  await gateway?.stop();
  await falkordb?.cleanup();
  await rm(workDir, { recursive: true, force: true });
});

describe('a tenant over its storage quota', () => {
  let hog: Client;
  let refusal: ToolOutcome | undefined;

  before(async () => {
    hog = await clientOf('hog');
    refusal = await fillUntilRefused(hog, 'big');
  });

  it('is refused further writes with STORAGE_QUOTA_EXCEEDED, saying its usage, the quota and what to do', () => {
    assert.ok(refusal !== undefined, `every one of ${MAX_BATCHES} batches was accepted under a ${QUOTA_MIB} MiB quota`);
    assert.equal(refusal.error?.code, 'STORAGE_QUOTA_EXCEEDED', refusal.text);
    const message = refusal.error?.message ?? '';
    assert.match(message, new RegExp(`storage quota of ${QUOTA_MIB} MiB`));
    assert.match(message, /stores \d+(\.\d+)? MiB/);
    assert.match(message, /Delete data/);
    assert.match(message, /ask the operator to raise the quota/);
    assert.doesNotMatch(message, /hog_big|gw:/);
  });

  it('is refused a write to a new graph too, but not a read-only query', async () => {
    const write = await callTool(hog, 'falkordb_query', { graphName: 'other', query: 'CREATE (:Tiny)' });
    assert.equal(write.error?.code, 'STORAGE_QUOTA_EXCEEDED', write.text);
    const read = await mustCall(hog, 'falkordb_query', { graphName: 'big', query: 'MATCH (n:Blob) RETURN count(n) AS n' });
    assert.ok(Number((read.rows as Array<{ n: number }>)[0]?.n) > 0);
  });

  it('is refused a new constraint, and may still drop one', async () => {
    const spec = { graphName: 'big', kind: 'mandatory', entity: 'node', label: 'Blob', properties: ['v'] };
    const create = await callTool(hog, 'falkordb_create_constraint', spec);
    assert.equal(create.error?.code, 'STORAGE_QUOTA_EXCEEDED', create.text);
    assert.equal((await mustCall(hog, 'falkordb_drop_constraint', spec)).dropped, false);
  });

  it('may still delete, and writes again once the deletion is measured', async () => {
    const deleted = await mustCall(hog, 'falkordb_query', { graphName: 'big', query: 'MATCH (n:Blob) DELETE n' });
    assert.ok(Number((deleted.stats as Record<string, number>).nodesDeleted) > 0);
    const again = await writeWhenAllowed(hog, 'big', 'CREATE (:Small {v: 1})');
    assert.ok(again.ok, again.text);
  });

  it('does not stop another tenant from writing', async () => {
    const neighbour = await clientOf('neighbour');
    const outcomes = await Promise.allSettled(Array.from({ length: 4 }, (_, i) => callTool(neighbour, 'falkordb_query', { graphName: 'g', query: 'CREATE (:Row {i: $i})', parameters: { i } })));
    for (const o of outcomes) assert.ok(o.status === 'fulfilled' && o.value.ok, o.status === 'fulfilled' ? o.value.text : String(o.reason));
  });
});

describe('tenant import into a tenant with a storage quota', () => {
  // The commands read the default quota from the same environment as the gateway.
  const env = () => ({ FALKORDB_URL: falkordb.url, AUTH_JWT_SECRET: TEST_SECRET, LOG_LEVEL: 'silent', TENANT_STORAGE_QUOTA_BYTES: `${QUOTA_MIB}MiB` });

  it('is refused, importing nothing, when the graphs would not fit', async () => {
    const source = await clientOf('source');
    // Written without a quota of its own: 0 in its record turns the default off.
    const added = await runCli(['tenant', 'add', 'source', '--storage-quota', '0'], env());
    assert.equal(added.code, 0, added.stderr);
    for (let i = 0; i < 4; i++) await mustCall(source, 'falkordb_query', { graphName: 'bulk', query: BATCH, parameters: PAD });
    const file = path.join(workDir, 'source.jsonl');
    await runCliJson(['tenant', 'export', 'source', '--out', file, '--json'], env());

    const done = await runCli(['tenant', 'import', 'source', '--in', file, '--rename-tenant', 'small'], env());
    assert.notEqual(done.code, 0, done.stdout);
    assert.match(done.stderr, /Nothing was imported/);
    assert.match(done.stderr, new RegExp(`storage quota of ${QUOTA_MIB} MiB`));
    assert.match(done.stderr, /tenant set small --storage-quota/);
    const small = await clientOf('small');
    const listed = await mustCall(small, 'falkordb_list_graphs');
    assert.deepEqual(listed.graphs, []);
  });

  it('goes through when the quota leaves room for it', async () => {
    const file = path.join(workDir, 'source.jsonl');
    const raised = await runCli(['tenant', 'add', 'roomy', '--storage-quota', '64MiB'], env());
    assert.equal(raised.code, 0, raised.stderr);
    const imported = await runCliJson<{ graphs: Array<{ name: string; nodes: number }> }>(['tenant', 'import', 'source', '--in', file, '--rename-tenant', 'roomy', '--json'], env());
    assert.equal(imported.graphs[0]?.nodes, 80_000);
  });
});

describe('the storage quota with TENANT_ISOLATION=acl', () => {
  let aclGateway: RunningGateway;
  let client: Client;

  before(async () => {
    aclGateway = await startTestGateway(falkordb.url, {
      TENANT_ISOLATION: 'acl',
      ACL_USER_SECRET: 'a'.repeat(64),
      TENANT_STORAGE_QUOTA_BYTES: '1MiB',
      TENANT_STORAGE_CHECK_MS: '0',
      RATE_LIMIT_PER_MINUTE: '0',
    });
    client = await connectClient('http', aclGateway.url, await signTestToken('acl-tenant', { scope: 'read write admin' }));
  });

  after(async () => {
    await client?.close();
    await aclGateway?.stop();
  });

  it('is measured on the gateway\'s own connection: the tenant\'s database user needs no new right', async () => {
    // No graph yet: the first write passes and creates one, which counts 1 MiB.
    await mustCall(client, 'falkordb_query', { graphName: 'g', query: 'CREATE (:N)' });
    const refused = await callTool(client, 'falkordb_query', { graphName: 'g', query: 'CREATE (:N)' });
    assert.equal(refused.error?.code, 'STORAGE_QUOTA_EXCEEDED', refused.text);
    const deleted = await mustCall(client, 'falkordb_query', { graphName: 'g', query: 'MATCH (n) DELETE n' });
    assert.equal((deleted.stats as Record<string, number>).nodesDeleted, 1);
  });
});

describe('how often the storage is measured', () => {
  let db: Database;

  before(async () => {
    db = await connectDatabase({ url: falkordb.url, connectTimeoutMs: 5000, logger: testLogger() });
    await db.sendCommand(['GRAPH.QUERY', tenantGraphKey('counted', 'a'), 'CREATE (:N)']);
    await db.sendCommand(['GRAPH.QUERY', tenantGraphKey('counted', 'b'), 'CREATE (:N)']);
  });

  after(async () => {
    await db?.close();
  });

  it('at most once per TENANT_STORAGE_CHECK_MS per tenant, writes arriving together sharing one measurement', async () => {
    let measured = 0;
    // The real database, with its GRAPH.MEMORY calls counted.
    const counting: Database = Object.create(db) as Database;
    counting.sendCommand = (args, options) => {
      if (args[0] === 'GRAPH.MEMORY') measured++;
      return db.sendCommand(args, options);
    };
    let now = 1_000_000;
    const quota = new StorageQuota({
      graphs: new GraphClient(counting),
      tenants: { get: () => Promise.resolve(undefined) },
      limits: { storageQuotaBytes: 4 * 1024 * 1024, storageCheckMs: 10_000 },
      now: () => now,
    });
    const first = await Promise.all(Array.from({ length: 5 }, () => quota.storage('counted')));
    // Two small graphs: 1 MiB each.
    assert.deepEqual(first.map((s) => s.usedBytes), Array(5).fill(2 * 1024 * 1024));
    assert.equal(measured, 2, 'one GRAPH.MEMORY per graph for all five');
    now += 9_999;
    await quota.storage('counted');
    assert.equal(measured, 2, 'reused within the interval');
    now += 1;
    await quota.storage('counted');
    assert.equal(measured, 4, 'measured again once the interval is over');
  });
});
