// Every example message docs/troubleshooting.md gives for the tenant placement
// codes is one the code really produces: through real gateways over HTTP/MCP
// on two real FalkorDB servers (the shared one and a target), the registry of
// one of them, and the command as a child process.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { GraphClient } from '../src/falkordb/graphs.js';
import type { RunningGateway } from '../src/main.js';
import { tenantKeyPrefix } from '../src/tenancy/keys.js';
import { runCli } from './support/cli.js';
import { documentedMessages, TROUBLESHOOTING_CODES_C } from './support/docs.js';
import { startTestFalkorDB, type TestFalkorDB } from './support/falkordb.js';
import { startTestGateway } from './support/gateway.js';
import { probeMcp } from './support/http.js';
import { callTool, connectClient, mustCall } from './support/mcp.js';
import { signTestToken } from './support/tokens.js';

const COVERED = TROUBLESHOOTING_CODES_C;

type Code = (typeof COVERED)[number];

const digitless = (text: string) => text.replace(/\d+(\.\d+)?/g, 'N');

const produced = new Set<string>();
const matched = new Map<string, Set<number>>();

function assertDocumented(code: Code, error: { code?: unknown; message?: unknown } | undefined, what = ''): void {
  assert.ok(error !== undefined, `${code}: no error ${what}`);
  assert.equal(error.code, code, `${what} ${String(error.message)}`);
  const examples = documentedMessages(code);
  assert.ok(examples.length > 0, `docs/troubleshooting.md has examples for ${code}`);
  const index = examples.map(digitless).indexOf(digitless(String(error.message)));
  assert.ok(index >= 0, `${code}: "${String(error.message)}" is not among the documented ${JSON.stringify(examples)}`);
  produced.add(code);
  matched.set(code, (matched.get(code) ?? new Set()).add(index));
}

/** What a refused call of the registry said, as {code, message}. */
async function rejection(promise: Promise<unknown>): Promise<{ code?: unknown; message?: unknown }> {
  try {
    await promise;
  } catch (error) {
    return error as { code?: unknown; message?: unknown };
  }
  assert.fail('expected a rejection');
}

/** Longer than the access policy's second, so every instance has read a registry change. */
const POLICY_SETTLE_MS = 1_500;

let shared: TestFalkorDB;
let target: TestFalkorDB;
let gateway: RunningGateway;
let dedicated: RunningGateway;
const clients: Client[] = [];
let cliEnv: Record<string, string>;

before(async () => {
  [shared, target] = await Promise.all([startTestFalkorDB(), startTestFalkorDB()]);
  const targets = { DATABASE_TARGETS: 'dedicated-1', DATABASE_TARGET_DEDICATED_1_URL: target.url };
  gateway = await startTestGateway(shared.url, { ...targets, MAX_CONCURRENT_QUERIES_PER_TENANT: '1', QUERY_QUEUE_TIMEOUT_MS: '20000' });
  dedicated = await startTestGateway(shared.url, { ...targets, SERVE_TENANTS: 'globex', INSTANCE_NAME: 'gw-globex-0' });
  cliEnv = { FALKORDB_URL: shared.url, ...targets, AUTH_JWT_SECRET: 'x'.repeat(32), LOG_LEVEL: 'silent' };
});

after(async () => {
  await Promise.allSettled(clients.map((c) => c.close()));
  await Promise.allSettled([gateway?.stop(), dedicated?.stop()]);
  await Promise.allSettled([shared?.cleanup(), target?.cleanup()]);
});

async function clientOf(tenant: string): Promise<Client> {
  const client = await connectClient('http', gateway.url, await signTestToken(tenant, { scope: 'read write admin' }));
  clients.push(client);
  return client;
}

async function toolError(client: Client, args: Record<string, unknown>) {
  const outcome = await callTool(client, 'falkordb_query', args);
  assert.equal(outcome.ok, false, outcome.text);
  return outcome.error;
}

/** Runs far past any time limit this file gives it. */
const HOLDING_QUERY = 'WITH range(1, 100000) AS r UNWIND r AS a UNWIND r AS x WITH x WHERE x < 0 RETURN count(x) AS n';

describe('dedicated instances', () => {
  it('TENANT_NOT_SERVED', async () => {
    const refused = await probeMcp(dedicated.url, await signTestToken('acme'));
    assert.equal(refused.status, 403);
    assertDocumented('TENANT_NOT_SERVED', refused.body as { code?: unknown; message?: unknown });
    assert.equal((await probeMcp(dedicated.url, await signTestToken('globex'))).status, 200);
  });
});

describe('moves', () => {
  it('TENANT_MOVING: the switch-over, a call queued across the switch, a second move', async () => {
    const tenants = gateway.state.tenants;
    await tenants.add({ id: 'acme' });
    const client = await clientOf('acme');
    await mustCall(client, 'falkordb_query', { graphName: 'g', query: 'CREATE (:N)' });

    await tenants.beginMove('acme', 'dedicated-1', 'move-1', Date.now() + 60_000);
    assertDocumented('TENANT_MOVING', await rejection(tenants.beginMove('acme', 'dedicated-1', 'move-2', Date.now() + 60_000)), 'a second move');
    await tenants.updateMove('acme', 'move-1', { phase: 'switching' });
    await sleep(POLICY_SETTLE_MS);
    assertDocumented('TENANT_MOVING', await toolError(client, { graphName: 'g', query: 'CREATE (:N)' }), 'during the switch-over');
    // Reads go on.
    await mustCall(client, 'falkordb_query', { graphName: 'g', query: 'MATCH (n) RETURN count(n) AS n', readOnly: true });

    // With the tenant's one slot held, the next call waits in the queue while the placement switches under it.
    const holding = callTool(client, 'falkordb_query', { graphName: 'g', query: HOLDING_QUERY, readOnly: true, timeoutMs: 3000 });
    await sleep(300);
    const queued = callTool(client, 'falkordb_query', { graphName: 'g', query: 'MATCH (n) RETURN count(n) AS n', readOnly: true });
    await tenants.updateMove('acme', 'move-1', { done: true, database: 'dedicated-1' });
    const outcome = await queued;
    await holding;
    assert.equal(outcome.ok, false, outcome.text);
    assertDocumented('TENANT_MOVING', outcome.error, 'queued across the switch');
  });

  it('TENANT_MOVE_LOST', async () => {
    const tenants = gateway.state.tenants;
    await tenants.beginMove('acme', 'dedicated-1', 'move-3', Date.now() + 100);
    await sleep(300);
    assertDocumented('TENANT_MOVE_LOST', await rejection(tenants.updateMove('acme', 'move-3', { phase: 'switching' })));
    assert.equal((await tenants.mustGet('acme')).database, 'dedicated-1', 'nothing was switched');
  });
});

describe('targets', () => {
  it('DATABASE_TARGET_UNKNOWN: from the command, and to a tenant placed on a target this instance lacks', async () => {
    const done = await runCli(['tenant', 'add', 'typo', '--database', 'dedicated-9'], cliEnv);
    assert.notEqual(done.code, 0);
    const lines = done.stderr.trim().split('\n');
    assertDocumented('DATABASE_TARGET_UNKNOWN', { code: 'DATABASE_TARGET_UNKNOWN', message: (lines[lines.length - 1] ?? '').replace(/^falkordb-mcp-gateway: /, '') }, 'from tenant add');
    assert.equal(await gateway.state.tenants.get('typo'), undefined, 'nothing was added');

    await gateway.state.tenants.add({ id: 'elsewhere', database: 'dedicated-9' });
    await sleep(POLICY_SETTLE_MS);
    const error = await toolError(await clientOf('elsewhere'), { graphName: 'g', query: 'CREATE (:N)' });
    assertDocumented('DATABASE_TARGET_UNKNOWN', error, 'to the tenant');
    assert.ok(!String(error?.message).includes('dedicated-9'), 'the tenant is not told the target');
    assert.deepEqual(await new GraphClient(gateway.database.db).listKeys(tenantKeyPrefix('elsewhere')), [], 'nothing ran on the shared database');
  });
});

it('covers exactly the codes of this file, and every example of them', () => {
  assert.deepEqual([...produced].sort(), [...COVERED].sort(), 'every covered code was produced and checked');
  for (const code of COVERED) {
    const unmatched = documentedMessages(code).filter((_, i) => !matched.get(code)?.has(i));
    assert.deepEqual(unmatched, [], `${code}: examples no test produced`);
  }
});
