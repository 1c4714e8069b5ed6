// The storage quota as an operator sets and reads it: `tenant add|set
// --storage-quota`, `tenant show` and `tenant usage` with the tenant's storage,
// and a running gateway applying a changed quota to the tenant's writes.

import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import type { RunningGateway } from '../src/main.js';
import { runCli, runCliJson } from './support/cli.js';
import { startTestFalkorDB, type TestFalkorDB } from './support/falkordb.js';
import { startTestGateway } from './support/gateway.js';
import { callTool, connectClient, mustCall, type ToolOutcome } from './support/mcp.js';
import { signTestToken, TEST_SECRET } from './support/tokens.js';

const MIB = 1024 * 1024;
const CHECK_MS = 100;
// The default quota, as the gateway and the commands both read it.
const DEFAULT_QUOTA = '2GB';

let falkordb: TestFalkorDB;
let gateway: RunningGateway;
let client: Client;
let env: Record<string, string>;

interface ShownTenant {
  storageQuotaBytes?: number;
  storage: { usedBytes: number; quotaBytes: number; quotaFrom: string };
}

/** Repeats a write until its outcome is the one wanted (a changed quota applies after the check interval). */
async function writeUntil(wanted: (o: ToolOutcome) => boolean): Promise<ToolOutcome> {
  let outcome = await callTool(client, 'falkordb_query', { graphName: 'g', query: 'CREATE (:N)' });
  for (let i = 0; i < 100 && !wanted(outcome); i++) {
    await sleep(CHECK_MS);
    outcome = await callTool(client, 'falkordb_query', { graphName: 'g', query: 'CREATE (:N)' });
  }
  return outcome;
}

function assertOneLineError(stderr: string, pattern: RegExp): void {
  assert.match(stderr, /^falkordb-mcp-gateway: [^\n]+\n$/, stderr);
  assert.match(stderr, pattern);
}

before(async () => {
  falkordb = await startTestFalkorDB();
  env = { FALKORDB_URL: falkordb.url, AUTH_JWT_SECRET: TEST_SECRET, LOG_LEVEL: 'silent', TENANT_STORAGE_QUOTA_BYTES: DEFAULT_QUOTA };
  gateway = await startTestGateway(falkordb.url, { TENANT_STORAGE_QUOTA_BYTES: DEFAULT_QUOTA, TENANT_STORAGE_CHECK_MS: String(CHECK_MS), RATE_LIMIT_PER_MINUTE: '0' });
  client = await connectClient('http', gateway.url, await signTestToken('acme', { scope: 'read write admin' }));
});

after(async () => {
  await client?.close();
  await gateway?.stop();
  await falkordb?.cleanup();
});

describe('tenant add --storage-quota', () => {
  it('stores the tenant\'s own quota and says it', async () => {
    const done = await runCli(['tenant', 'add', 'acme', '--storage-quota', '512MiB'], env);
    assert.equal(done.code, 0, done.stderr);
    assert.match(done.stdout, /storage quota: +512 MiB \(its own\)/);
    const shown = await runCliJson<ShownTenant>(['tenant', 'show', 'acme', '--json'], env);
    assert.equal(shown.storageQuotaBytes, 512 * MIB);
  });

  it('refuses a size it cannot read, with the forms it takes, and adds nothing', async () => {
    const done = await runCli(['tenant', 'add', 'bad-size', '--storage-quota', 'lots'], env);
    assert.notEqual(done.code, 0);
    assertOneLineError(done.stderr, /--storage-quota "lots" is not a size; .*512MiB.*none.*default/);
    const shown = await runCli(['tenant', 'show', 'bad-size'], env);
    assert.notEqual(shown.code, 0);
  });
});

describe('tenant show and tenant usage', () => {
  before(async () => {
    await mustCall(client, 'falkordb_query', { graphName: 'g', query: 'CREATE (:N {v: 1})' });
  });

  it('show the storage the tenant\'s graphs take and the quota that applies', async () => {
    const shown = await runCliJson<ShownTenant>(['tenant', 'show', 'acme', '--json'], env);
    // One small graph: under 1 MiB, counted as 1 MiB.
    assert.deepEqual(shown.storage, { usedBytes: MIB, quotaBytes: 512 * MIB, quotaFrom: 'tenant' });
    const text = await runCli(['tenant', 'show', 'acme'], env);
    assert.match(text.stdout, /storage: +1 MiB used\n/);
    assert.match(text.stdout, /quota: +512 MiB \(its own\)/);
  });

  it('usage lists each tenant\'s storage now beside its quota', async () => {
    const done = await runCli(['tenant', 'usage'], env);
    assert.equal(done.code, 0, done.stderr);
    assert.match(done.stdout, /TENANT +STORAGE NOW +STORAGE QUOTA +USED/);
    assert.match(done.stdout, /acme +1 MiB +512 MiB \(its own\) +0%/);
  });
});

describe('tenant set --storage-quota', () => {
  it('lowered under the tenant\'s usage: the running gateway refuses its writes, and show says so', async () => {
    const done = await runCli(['tenant', 'set', 'acme', '--storage-quota', '1MiB'], env);
    assert.equal(done.code, 0, done.stderr);
    assert.match(done.stdout, /storage quota is now 1 MiB \(its own\) \(before: 512 MiB \(its own\)\)/);
    const refused = await writeUntil((o) => !o.ok);
    assert.equal(refused.error?.code, 'STORAGE_QUOTA_EXCEEDED', refused.text);
    assert.match(refused.error?.message ?? '', /stores 1 MiB in its graphs, at or over its storage quota of 1 MiB/);
    const shown = await runCli(['tenant', 'show', 'acme'], env);
    assert.match(shown.stdout, /storage: +1 MiB used, AT OR OVER QUOTA/);
    const usage = await runCli(['tenant', 'usage', '--tenant', 'acme'], env);
    assert.match(usage.stdout, /acme +1 MiB +1 MiB \(its own\) +100%/);
  });

  it('none: the tenant has no quota, and writes again', async () => {
    const done = await runCli(['tenant', 'set', 'acme', '--storage-quota', 'none'], env);
    assert.equal(done.code, 0, done.stderr);
    const outcome = await writeUntil((o) => o.ok);
    assert.ok(outcome.ok, outcome.text);
    const shown = await runCliJson<ShownTenant>(['tenant', 'show', 'acme', '--json'], env);
    assert.equal(shown.storageQuotaBytes, 0);
    assert.equal(shown.storage.quotaBytes, 0);
  });

  it('default: back to TENANT_STORAGE_QUOTA_BYTES', async () => {
    const done = await runCliJson<{ storageQuotaBytes: number | null; quotaBytes: number }>(['tenant', 'set', 'acme', '--storage-quota', 'default', '--json'], env);
    assert.deepEqual({ own: done.storageQuotaBytes, applies: done.quotaBytes }, { own: null, applies: 2_000_000_000 });
    const shown = await runCliJson<ShownTenant>(['tenant', 'show', 'acme', '--json'], env);
    assert.equal(shown.storageQuotaBytes, undefined);
    assert.equal(shown.storage.quotaFrom, 'TENANT_STORAGE_QUOTA_BYTES');
  });

  it('refuses a bad size or a missing option, changing nothing', async () => {
    const bad = await runCli(['tenant', 'set', 'acme', '--storage-quota', '1.5GB'], env);
    assert.notEqual(bad.code, 0);
    assertOneLineError(bad.stderr, /--storage-quota "1\.5GB" is not a size/);
    const none = await runCli(['tenant', 'set', 'acme'], env);
    assert.notEqual(none.code, 0);
    assertOneLineError(none.stderr, /Nothing to set: give --storage-quota SIZE/);
    const missing = await runCli(['tenant', 'set', 'nobody', '--storage-quota', '1GiB'], env);
    assert.notEqual(missing.code, 0);
    assertOneLineError(missing.stderr, /No tenant "nobody" is registered/);
    const shown = await runCliJson<ShownTenant>(['tenant', 'show', 'acme', '--json'], env);
    assert.equal(shown.storageQuotaBytes, undefined);
  });
});
