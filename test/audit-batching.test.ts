// Audit events of tool calls go to the shared stream in batches, and usage
// counters in one command per tenant-day: stopping a gateway right after a
// burst of calls still writes every event and every count.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import type { RunningGateway } from '../src/main.js';
import { AuditTrail } from '../src/observability/audit.js';
import { STREAM_BATCH_MAX } from '../src/observability/audit-sinks.js';
import { createLogger } from '../src/logger.js';
import { GatewayError } from '../src/errors.js';
import { UsageBatch } from '../src/observability/usage-batch.js';
import { dayExpiresAtSec, utcDay, zeroCounters } from '../src/observability/usage-counters.js';
import { stateKeys } from '../src/state/keys.js';
import type { StateStore } from '../src/state/store.js';
import { startTestFalkorDB, type TestFalkorDB } from './support/falkordb.js';
import { captureLog, startTestGateway } from './support/gateway.js';
import { signTestToken } from './support/tokens.js';

let db: TestFalkorDB;
/** Reads what the stopped gateways wrote. */
let reader: RunningGateway;

before(async () => {
  db = await startTestFalkorDB();
  reader = await startTestGateway(db.url);
});

after(async () => {
  await reader?.stop();
  await db?.cleanup();
});

async function callListGraphs(url: string, token: string, id: number): Promise<number> {
  const response = await fetch(`${url}/mcp`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json', Accept: 'application/json, text/event-stream' },
    body: JSON.stringify({ jsonrpc: '2.0', id, method: 'tools/call', params: { name: 'falkordb_list_graphs', arguments: {} } }),
  });
  await response.text();
  return response.status;
}

describe('stopping a gateway right after a burst of tool calls', () => {
  it('writes every audit event and every usage count', async () => {
    const gateway = await startTestGateway(db.url);
    const tenants = ['burst-a', 'burst-b'];
    const tokens = await Promise.all(tenants.map((t) => signTestToken(t)));
    const calls = 120;
    const statuses = await Promise.all(Array.from({ length: calls }, (_, i) => callListGraphs(gateway.url, tokens[i % 2]!, i)));
    assert.ok(statuses.every((s) => s === 200));
    // No flush: stop() alone must write what is still held back.
    await gateway.stop();

    const store = reader.state.store;
    const day = utcDay(Date.now());
    for (const tenant of tenants) {
      const events = (await store.command(['XRANGE', stateKeys.tenantAudit(tenant), '-', '+'])) as Array<[string, string[]]>;
      const toolEvents = events.filter(([, fields]) => fields.includes('falkordb_list_graphs'));
      assert.equal(toolEvents.length, calls / 2, `audit events of ${tenant}`);
      const requests = await store.command(['HGET', stateKeys.usageDay(tenant, day), 'requests']);
      assert.equal(Number(requests), calls / 2, `usage requests of ${tenant}`);
      const ttl = Number(await store.command(['TTL', stateKeys.usageDay(tenant, day)]));
      assert.ok(ttl > 0, `the usage day of ${tenant} expires (TTL ${ttl})`);
    }
  });
});

describe('the batched audit stream', () => {
  const principal = { tenant: 'batch-unit', subject: 'batch-unit', scopes: ['read'] as const, expiresAt: 0 };
  const call = { tool: 'falkordb_list_graphs', outcome: 'success' as const, durationMs: 1 };

  function recordingStore(): { store: StateStore; commands: string[][]; ticksOf: number[] } {
    const commands: string[][] = [];
    const ticksOf: number[] = [];
    let tick = 0;
    const advance = () => {
      tick += 1;
      setImmediate(advance).unref();
    };
    advance();
    const store = { command: (args: string[]) => (commands.push(args), ticksOf.push(tick), Promise.resolve('1-0')) } as unknown as StateStore;
    return { store, commands, ticksOf };
  }

  it('sends the events of many calls together, and close() writes the ones still held back', async () => {
    const { store, commands, ticksOf } = recordingStore();
    const trail = new AuditTrail(store, createLogger('silent'), { queryText: false, logFile: undefined, streamMaxLen: 100 });
    for (let i = 0; i < 40; i += 1) trail.toolCall(principal, undefined, call);
    assert.equal(commands.length, 0, 'held back for a moment');
    await trail.close();
    assert.equal(commands.length, 40);
    assert.ok(commands.every((c) => c[0] === 'XADD' && c[1] === stateKeys.tenantAudit('batch-unit')));
    assert.equal(new Set(ticksOf).size, 1, 'all of them in one go');
  });

  it("builds a tool call's event on a later turn than the call's own, with the time of the call", async () => {
    const { store, commands } = recordingStore();
    const log = captureLog();
    let now = Date.parse('2030-01-01T00:00:00.123Z');
    const trail = new AuditTrail(store, createLogger('info', log.stream), { queryText: false, logFile: undefined, streamMaxLen: 100 }, () => now);
    trail.toolCall(principal, undefined, { tool: 'falkordb_query', graph: 'g', query: 'RETURN 1', outcome: 'success', rowCount: 1, durationMs: 2 });
    now += 5_000;
    assert.equal(log.text(), '', 'not in the turn that answers the call');
    await trail.flush();
    const [line] = log.text().trim().split('\n').map((l) => JSON.parse(l) as { audit: Record<string, unknown> });
    assert.deepEqual(Object.keys(line!.audit), ['time', 'event', 'tenant', 'tool', 'graph', 'querySha256', 'durationMs', 'rowCount'], 'in AUDIT_FIELDS order');
    assert.equal(line!.audit['time'], '2030-01-01T00:00:00.123Z');
    assert.equal(line!.audit['querySha256'], createHash('sha256').update('RETURN 1').digest('hex'));
    assert.equal(commands.length, 1);
    await trail.close();
  });

  it('sends a full batch at once, without waiting', async () => {
    const { store, commands } = recordingStore();
    const trail = new AuditTrail(store, createLogger('silent'), { queryText: false, logFile: undefined, streamMaxLen: 100 });
    for (let i = 0; i < STREAM_BATCH_MAX; i += 1) trail.toolCall(principal, undefined, call);
    assert.equal(commands.length, STREAM_BATCH_MAX);
    await trail.close();
  });

  it('writes an operator action at once: record() resolves once it is in the stream', async () => {
    const { store, commands } = recordingStore();
    const trail = new AuditTrail(store, createLogger('silent'), { queryText: false, logFile: undefined, streamMaxLen: 100 });
    trail.toolCall(principal, undefined, call);
    await trail.record({ event: 'tenant_changed', tenant: 'batch-unit', actor: 'test', detail: 'disabled' });
    assert.equal(commands.length, 2, 'the held-back event went along with it');
    await trail.close();
  });
});

describe('audit events while the database does not take writes', () => {
  const principal = { tenant: 'held-unit', subject: 'held-unit', scopes: ['read'] as const, expiresAt: 0 };

  /** A store whose primary is down until `up()`: every command fails, then each one is recorded. */
  function outageStore(): { store: StateStore; written: string[]; up: () => void } {
    const written: string[] = [];
    let down = true;
    const listeners: Array<(up: boolean) => void> = [];
    const store = {
      command: (args: string[]) => {
        if (down) return Promise.reject(new GatewayError('PRIMARY_UNAVAILABLE', 'down'));
        written.push(args[args.indexOf('graph') + 1]!);
        return Promise.resolve('1-0');
      },
      database: { onPrimaryChange: (listener: (up: boolean) => void) => (listeners.push(listener), () => undefined) },
    } as unknown as StateStore;
    return {
      store,
      written,
      up: () => {
        down = false;
        for (const listener of listeners) listener(true);
      },
    };
  }

  it('holds up to AUDIT_BUFFER_MAX events, counts every one past it, and writes the held ones in order once the primary is back', async () => {
    const { store, written, up } = outageStore();
    const trail = new AuditTrail(store, createLogger('silent'), { queryText: false, logFile: undefined, streamMaxLen: 100, bufferMax: 3 });
    for (let i = 1; i <= 5; i += 1) trail.toolCall(principal, undefined, { tool: 'falkordb_query', graph: `g${i}`, outcome: 'success', durationMs: 1 });
    await trail.flush();
    assert.equal(trail.heldEvents(), 3);
    assert.deepEqual(trail.sinkFailures(), { log: 0, stream: 2 }, 'the two past the bound are counted');
    up();
    trail.toolCall(principal, undefined, { tool: 'falkordb_query', graph: 'g6', outcome: 'success', durationMs: 1 });
    await trail.close();
    assert.deepEqual(written, ['g1', 'g2', 'g3', 'g6'], 'the held events first, in order, then the newer one');
    assert.equal(trail.heldEvents(), 0);
  });
});

describe('the usage script on the database server', () => {
  it('adds every counter of a tenant-day in one command, and gives a key that lost its expiry one again', async () => {
    const store = reader.state.store;
    const send = (args: readonly string[]) => store.command(args);
    const day = utcDay(Date.now());
    const key = stateKeys.usageDay('script-unit', day);
    const batch = new UsageBatch(30);
    batch.add('script-unit', day, { ...zeroCounters(), requests: 2, queries: 1, rows: 4, queryMs: 1.5 });
    assert.deepEqual(await batch.flush(send, Date.now()), { sent: 1, failed: 0 });
    assert.deepEqual(await store.command(['HMGET', key, 'requests', 'queries', 'rows', 'queryMs']), ['2', '1', '4', '1.5']);
    assert.equal(Number(await store.command(['EXPIRETIME', key])), dayExpiresAtSec(day, 30));

    // Deleted (e.g. with its tenant) and counted again: this instance set the expiry before, the script sets it again.
    await store.command(['DEL', key]);
    batch.add('script-unit', day, { ...zeroCounters(), requests: 1, queryMs: 0.25 });
    await batch.flush(send, Date.now());
    assert.deepEqual(await store.command(['HMGET', key, 'requests', 'queryMs']), ['1', '0.25']);
    assert.equal(Number(await store.command(['EXPIRETIME', key])), dayExpiresAtSec(day, 30));
  });

  it('adds the tenant-days of many tenants in one command, and keeps for the next flush only the one the server refused', async () => {
    const store = reader.state.store;
    const send = (args: readonly string[]) => store.command(args);
    const day = utcDay(Date.now());
    const tenants = Array.from({ length: 5 }, (_, i) => `script-many-${i}`);
    const refused = stateKeys.usageDay('script-many-2', day);
    // Not a hash: the server refuses HINCRBY on it (WRONGTYPE) in the middle of the script.
    await store.command(['SET', refused, 'not a hash']);
    const batch = new UsageBatch(30);
    tenants.forEach((tenant, i) => batch.add(tenant, day, { ...zeroCounters(), requests: i + 1, queryMs: 0.5 }));
    const first = await batch.flush(send, Date.now());
    assert.deepEqual([first.sent, first.failed], [1, 1]);
    assert.match(String(first.error), /WRONGTYPE/);
    for (const [i, tenant] of tenants.entries()) {
      if (tenant === 'script-many-2') continue;
      const key = stateKeys.usageDay(tenant, day);
      assert.deepEqual(await store.command(['HMGET', key, 'requests', 'queryMs']), [String(i + 1), '0.5'], tenant);
      assert.equal(Number(await store.command(['EXPIRETIME', key])), dayExpiresAtSec(day, 30), tenant);
    }
    assert.equal(batch.unflushed('script-many-2', day).requests, 3);

    await store.command(['DEL', refused]);
    assert.deepEqual(await batch.flush(send, Date.now()), { sent: 1, failed: 0 });
    assert.deepEqual(await store.command(['HMGET', refused, 'requests', 'queryMs']), ['3', '0.5']);
    assert.equal(Number(await store.command(['EXPIRETIME', refused])), dayExpiresAtSec(day, 30));
    assert.deepEqual(await store.command(['HMGET', stateKeys.usageDay('script-many-0', day), 'requests']), ['1'], 'nothing went twice');
  });
});
