// The usage batching on its own, against an in-memory stand-in for the
// database: what a flush sends, and that a failed flush loses nothing.

import { describe, it } from 'node:test';
import { setImmediate as nextTurn } from 'node:timers/promises';
import assert from 'node:assert/strict';
import { GatewayError } from '../errors.js';
import type { RespValue } from '../falkordb/database.js';
import type { Logger } from '../logger.js';
import { stateKeys } from '../state/keys.js';
import { USAGE_INCREMENT_SCRIPT, USAGE_KEYS_PER_COMMAND, UsageBatch } from './usage-batch.js';
import { countersOfCall, dayExpiresAtSec, zeroCounters, type UsageCounters } from './usage-counters.js';
import { createUsageRecorder } from './usage.js';
import { readUsageDay, tenantOfUsageKey } from './usage-read.js';

const DAY = '2025-03-14';
const NOW = Date.parse(`${DAY}T12:00:00Z`);

/** Just enough of the database server for usage: hashes, expiries, a sorted set; `failing` refuses commands. */
class FakeDatabase {
  readonly hashes = new Map<string, Map<string, number>>();
  readonly expiries = new Map<string, number>();
  readonly scores = new Map<string, number>();
  readonly sent: string[][] = [];
  failing: (args: readonly string[]) => boolean = () => false;
  /** Increments the script is refused inside (as under maxmemory), key by key and field by field. */
  refuses: (key: string, field: string) => boolean = () => false;

  command = (args: readonly string[]): Promise<RespValue> => {
    this.sent.push([...args]);
    if (this.failing(args)) return Promise.reject(new GatewayError('DATABASE_UNREACHABLE', 'The database is down.'));
    const [name, key = '', a = '', b = ''] = args;
    const hash = this.hashes.get(key) ?? new Map<string, number>();
    switch (name) {
      case 'HINCRBY':
      case 'HINCRBYFLOAT':
        hash.set(a, (hash.get(a) ?? 0) + Number(b));
        this.hashes.set(key, hash);
        return Promise.resolve(hash.get(a) ?? 0);
      case 'HMGET':
        return Promise.resolve(args.slice(2).map((f) => (hash.has(f) ? String(hash.get(f)) : null)));
      case 'EXPIREAT':
        this.expiries.set(key, Number(a));
        return Promise.resolve(1);
      case 'EVAL': {
        // USAGE_INCREMENT_SCRIPT: KEYS, the fractional field, then per key: expiry, force, pair count, pairs.
        assert.equal(key, USAGE_INCREMENT_SCRIPT);
        const keyCount = Number(a);
        const keys = args.slice(3, 3 + keyCount);
        let at = 3 + keyCount + 1;
        const reply: RespValue[] = [];
        let firstError: string | undefined;
        for (const dayKey of keys) {
          const [expireAt = '', force = '', count = '0'] = args.slice(at, at + 3);
          at += 3;
          const dayHash = this.hashes.get(dayKey) ?? new Map<string, number>();
          let applied = 0;
          for (let i = 0; i < Number(count); i += 1) {
            const [field = '', amount = ''] = args.slice(at + 2 * i, at + 2 * i + 2);
            if (this.refuses(dayKey, field)) {
              firstError ??= 'OOM command not allowed when used memory > maxmemory';
              break;
            }
            dayHash.set(field, (dayHash.get(field) ?? 0) + Number(amount));
            applied += 1;
          }
          at += 2 * Number(count);
          if (dayHash.size > 0) this.hashes.set(dayKey, dayHash);
          if (force === '1' || !this.expiries.has(dayKey)) this.expiries.set(dayKey, Number(expireAt));
          reply.push(applied, 1);
        }
        if (firstError !== undefined) reply.push(firstError);
        return Promise.resolve(reply);
      }
      case 'ZADD': {
        assert.equal(a, 'GT');
        const pairs = args.slice(3);
        for (let i = 0; i + 1 < pairs.length; i += 2) this.scores.set(pairs[i + 1]!, Math.max(Number(pairs[i]), this.scores.get(pairs[i + 1]!) ?? 0));
        return Promise.resolve(pairs.length / 2);
      }
      case 'ZSCORE':
        return Promise.resolve(this.scores.has(a) ? String(this.scores.get(a)) : null);
      case 'ZREMRANGEBYSCORE':
        return Promise.resolve(0);
      default:
        return Promise.reject(new Error(`unexpected command ${name}`));
    }
  };

  counters(tenant: string, day = DAY): Promise<UsageCounters> {
    return readUsageDay(this, tenant, day);
  }
}

const counts = (partial: Partial<UsageCounters>): UsageCounters => ({ ...zeroCounters(), ...partial });

describe('UsageBatch', () => {
  it('writes a tenant-day with one command, and forces its expiry only the first time', async () => {
    const db = new FakeDatabase();
    const batch = new UsageBatch(90);
    batch.add('acme', DAY, counts({ requests: 2, queries: 1, rows: 5, queryMs: 1.25 }));
    batch.add('acme', DAY, counts({ requests: 1 }));
    const outcome = await batch.flush(db.command, NOW);
    assert.deepEqual(outcome, { sent: 1, failed: 0 });
    const key = stateKeys.usageDay('acme', DAY);
    const expiry = String(dayExpiresAtSec(DAY, 90));
    assert.deepEqual(db.sent, [['EVAL', USAGE_INCREMENT_SCRIPT, '1', key, 'queryMs', expiry, '1', '4', 'requests', '3', 'queries', '1', 'rows', '5', 'queryMs', '1.250']]);
    assert.deepEqual(await db.counters('acme'), counts({ requests: 3, queries: 1, rows: 5, queryMs: 1.25 }));
    assert.equal(batch.size, 0);
    db.sent.length = 0;
    batch.add('acme', DAY, counts({ requests: 1 }));
    await batch.flush(db.command, NOW);
    assert.deepEqual(db.sent, [['EVAL', USAGE_INCREMENT_SCRIPT, '1', key, 'queryMs', expiry, '0', '1', 'requests', '1']], 'the expiry is set already');
  });

  it('sends every command of a flush before any reply arrives, so they travel as one pipeline', async () => {
    const replies: Array<() => void> = [];
    const batch = new UsageBatch(90, { keysPerCommand: 1 });
    batch.add('a', DAY, counts({ requests: 1, errors: 1 }));
    batch.add('b', DAY, counts({ requests: 1 }));
    batch.noteError('a', NOW);
    const flushed = batch.flush((_args) => new Promise<void>((resolve) => replies.push(resolve)), NOW);
    // One for a, one for b, ZADD and the retention trim of the last-error set.
    assert.equal(replies.length, 4);
    for (const reply of replies) reply();
    assert.deepEqual(await flushed, { sent: 4, failed: 0 });
  });

  it('writes the tenant-days of many tenants with one command per USAGE_KEYS_PER_COMMAND of them, and their last errors with one', async () => {
    const db = new FakeDatabase();
    const batch = new UsageBatch(90);
    const tenants = Array.from({ length: 2 * USAGE_KEYS_PER_COMMAND + 3 }, (_, i) => `t${i}`);
    for (const tenant of tenants) {
      batch.add(tenant, DAY, counts({ requests: 2, errors: 1 }));
      batch.noteError(tenant, NOW);
    }
    batch.add('t0', '2025-03-13', counts({ requests: 1 }));
    assert.deepEqual(await batch.flush(db.command, NOW), { sent: 5, failed: 0 });
    assert.deepEqual(db.sent.map((c) => c[0]), ['EVAL', 'EVAL', 'EVAL', 'ZADD', 'ZREMRANGEBYSCORE']);
    assert.deepEqual(db.sent.slice(0, 3).map((c) => Number(c[2])), [USAGE_KEYS_PER_COMMAND, USAGE_KEYS_PER_COMMAND, 4]);
    for (const tenant of tenants) {
      assert.deepEqual(await db.counters(tenant), counts({ requests: 2, errors: 1 }), tenant);
      assert.equal(db.expiries.get(stateKeys.usageDay(tenant, DAY)), dayExpiresAtSec(DAY, 90));
      assert.equal(db.scores.get(stateKeys.usageLastErrorMember(tenant)), NOW);
    }
    assert.deepEqual(await db.counters('t0', '2025-03-13'), counts({ requests: 1 }));
  });

  it('keeps every count of a flush the database refused, for the next flush', async () => {
    const db = new FakeDatabase();
    const batch = new UsageBatch(90);
    batch.add('acme', DAY, counts({ requests: 4, queries: 2, writes: 1, errors: 1, rows: 7, queryMs: 3.5 }));
    db.failing = () => true;
    const failed = await batch.flush(db.command, NOW);
    assert.equal(failed.failed, failed.sent);
    assert.ok(failed.error instanceof GatewayError);
    batch.add('acme', DAY, counts({ requests: 1 }));
    db.failing = () => false;
    assert.equal((await batch.flush(db.command, NOW)).failed, 0);
    assert.deepEqual(await db.counters('acme'), counts({ requests: 5, queries: 2, writes: 1, errors: 1, rows: 7, queryMs: 3.5 }));
    assert.equal(db.expiries.get(stateKeys.usageDay('acme', DAY)), dayExpiresAtSec(DAY, 90));
  });

  it('puts back only the tenant-days that failed when part of a flush goes through', async () => {
    const db = new FakeDatabase();
    const batch = new UsageBatch(90, { keysPerCommand: 1 });
    batch.add('acme', DAY, counts({ requests: 2, errors: 1 }));
    batch.add('widgets', DAY, counts({ requests: 3 }));
    db.failing = (args) => args[3] === stateKeys.usageDay('acme', DAY);
    assert.equal((await batch.flush(db.command, NOW)).failed, 1);
    assert.deepEqual(await db.counters('acme'), zeroCounters());
    assert.deepEqual(await db.counters('widgets'), counts({ requests: 3 }));
    db.failing = () => false;
    db.sent.length = 0;
    await batch.flush(db.command, NOW);
    // Only what failed goes again, with its expiry, so no count goes twice.
    assert.deepEqual(db.sent.map((c) => c.slice(3)), [[stateKeys.usageDay('acme', DAY), 'queryMs', String(dayExpiresAtSec(DAY, 90)), '1', '2', 'requests', '2', 'errors', '1']]);
    assert.deepEqual(await db.counters('acme'), counts({ requests: 2, errors: 1 }));
    assert.deepEqual(await db.counters('widgets'), counts({ requests: 3 }));
  });

  it('puts back only what the script could not apply when the database refuses part of one command', async () => {
    const db = new FakeDatabase();
    const batch = new UsageBatch(90);
    batch.add('acme', DAY, counts({ requests: 2, queries: 1, errors: 1 }));
    batch.add('widgets', DAY, counts({ requests: 3 }));
    batch.add('zebra', DAY, counts({ requests: 4 }));
    // Inside the one script call: acme's `queries` and everything after it, and all of widgets, are refused.
    db.refuses = (key, field) => (key === stateKeys.usageDay('acme', DAY) && field !== 'requests') || key === stateKeys.usageDay('widgets', DAY);
    const outcome = await batch.flush(db.command, NOW);
    assert.deepEqual([outcome.sent, outcome.failed], [1, 1]);
    assert.match(String(outcome.error), /OOM command not allowed/);
    assert.deepEqual(await db.counters('acme'), counts({ requests: 2 }));
    assert.deepEqual(await db.counters('widgets'), zeroCounters());
    assert.deepEqual(await db.counters('zebra'), counts({ requests: 4 }));
    assert.deepEqual(batch.unflushed('acme', DAY), counts({ queries: 1, errors: 1 }));
    db.refuses = () => false;
    assert.deepEqual(await batch.flush(db.command, NOW), { sent: 1, failed: 0 });
    assert.deepEqual(await db.counters('acme'), counts({ requests: 2, queries: 1, errors: 1 }), 'no count went twice');
    assert.deepEqual(await db.counters('widgets'), counts({ requests: 3 }));
    assert.deepEqual(await db.counters('zebra'), counts({ requests: 4 }));
  });

  it('still counts a flush in progress as unflushed until the database has taken it', async () => {
    const batch = new UsageBatch(90);
    batch.add('acme', DAY, counts({ requests: 2 }));
    let reply!: () => void;
    const flushed = batch.flush((args) => (args[0] === 'EVAL' ? new Promise<void>((resolve) => (reply = resolve)) : Promise.resolve()), NOW);
    batch.add('acme', DAY, counts({ requests: 1 }));
    assert.equal(batch.unflushed('acme', DAY).requests, 3);
    reply();
    await flushed;
    assert.equal(batch.unflushed('acme', DAY).requests, 1);
    assert.equal(batch.unflushed('widgets', DAY).requests, 0);
  });

  it('keeps the latest error time of each tenant, and sends it again after a failure', async () => {
    const db = new FakeDatabase();
    const batch = new UsageBatch(90);
    batch.noteError('acme', NOW + 5);
    batch.noteError('acme', NOW);
    assert.equal(batch.unflushedLastError('acme'), NOW + 5);
    assert.equal(batch.unflushedLastError('widgets'), undefined);
    db.failing = (args) => args[0] === 'ZADD';
    await batch.flush(db.command, NOW);
    assert.equal(batch.unflushedLastError('acme'), NOW + 5);
    db.failing = () => false;
    await batch.flush(db.command, NOW);
    assert.equal(db.scores.get(stateKeys.usageLastErrorMember('acme')), NOW + 5);
    assert.equal(batch.unflushedLastError('acme'), undefined);
  });

  it('sends nothing when nothing was gathered', async () => {
    const db = new FakeDatabase();
    assert.deepEqual(await new UsageBatch(90).flush(db.command, NOW), { sent: 0, failed: 0 });
    assert.equal(db.sent.length, 0);
  });
});

describe('usage counters', () => {
  it('count a query as a write only when it changed the graph', () => {
    assert.deepEqual(countersOfCall({ tool: 'falkordb_query', write: true, outcome: 'success', rowCount: 2, durationMs: 4 }), counts({ queries: 1, writes: 1, rows: 2, queryMs: 4 }));
    assert.deepEqual(countersOfCall({ tool: 'falkordb_query', write: true, outcome: 'error', errorCode: 'QUERY_FAILED', durationMs: 1 }), counts({ queries: 1, errors: 1, queryMs: 1 }));
    assert.deepEqual(countersOfCall({ tool: 'falkordb_list_graphs', outcome: 'error', durationMs: 3 }), counts({ errors: 1 }));
  });

  it('count a falkordb_read_query call as a query, and a plan (falkordb_explain) as no query', () => {
    assert.deepEqual(countersOfCall({ tool: 'falkordb_read_query', write: false, outcome: 'success', rowCount: 2, durationMs: 4 }), counts({ queries: 1, rows: 2, queryMs: 4 }));
    assert.deepEqual(countersOfCall({ tool: 'falkordb_explain', write: false, outcome: 'success', durationMs: 1 }), counts({}));
  });

  it('map usage keys back to their tenant, and nothing else', () => {
    assert.equal(tenantOfUsageKey(stateKeys.usageDay('a_b', DAY)), 'a_b');
    assert.equal(tenantOfUsageKey(stateKeys.usageDay('acme', DAY)), 'acme');
    assert.equal(tenantOfUsageKey('gw:usage:acme'), undefined);
    assert.equal(tenantOfUsageKey('gw:usage:a%5fb:2025-03-14'), undefined);
    assert.equal(tenantOfUsageKey('gw:tenant:acme'), undefined);
  });
});

describe('createUsageRecorder', () => {
  const quietLogger = () => {
    const warnings: unknown[] = [];
    return { warnings, logger: { warn: (...args: unknown[]) => warnings.push(args) } as unknown as Logger };
  };
  const config = { usage: { retentionDays: 90 }, limits: { ratePerMinute: 600, ratePlans: { pro: 3000 }, maxConcurrentPerTenant: 8 } } as const;
  const tenants = { get: (id: string) => Promise.resolve(id === 'paying' ? { id, plan: 'pro', status: 'enabled' as const, allowIps: [], createdAt: 0, updatedAt: 0 } : undefined) };

  it('warns about failing flushes at most once a minute, and writes everything once the database is back', async () => {
    const db = new FakeDatabase();
    db.failing = () => true;
    let clock = NOW;
    const { warnings, logger } = quietLogger();
    const usage = createUsageRecorder({ store: db, tenants, config: config as never, logger, now: () => clock, flushIntervalMs: 1 });
    usage.request('acme');
    usage.toolCall('acme', { tool: 'falkordb_query', outcome: 'error', errorCode: 'QUERY_FAILED', durationMs: 2 });
    const attempts = async (n: number) => {
      const target = db.sent.length + n;
      while (db.sent.length < target) await nextTurn();
    };
    await attempts(20);
    assert.equal(warnings.length, 1);
    clock += 60_000;
    await attempts(20);
    assert.equal(warnings.length, 2);
    db.failing = () => false;
    await usage.close();
    assert.deepEqual(await db.counters('acme'), counts({ requests: 1, queries: 1, errors: 1, queryMs: 2 }));
    assert.equal(await usage.stats?.lastErrorAt('acme'), NOW);
  });

  it('writes all tenant-days in one command on one server, and each in its own on a cluster (one slot per script call)', async () => {
    for (const [cluster, commands] of [[false, 1], [true, 3]] as const) {
      const db = new FakeDatabase();
      const store = cluster ? { command: db.command, database: { primaries: () => Promise.resolve([]) } } : db;
      const usage = createUsageRecorder({ store, tenants, config: config as never, logger: quietLogger().logger, now: () => NOW, flushIntervalMs: 3_600_000 });
      for (const tenant of ['a', 'b', 'c']) usage.request(tenant);
      await usage.close();
      assert.equal(db.sent.filter((c) => c[0] === 'EVAL').length, commands, cluster ? 'cluster' : 'one server');
      for (const tenant of ['a', 'b', 'c']) assert.equal((await db.counters(tenant)).requests, 1);
    }
  });

  it('shows unflushed counts in the tenant stats, and the rate of the tenant plan', async () => {
    const db = new FakeDatabase();
    const usage = createUsageRecorder({ store: db, tenants, config: config as never, logger: quietLogger().logger, now: () => NOW, flushIntervalMs: 3_600_000 });
    usage.request('acme');
    await usage.flush();
    usage.request('acme');
    usage.toolCall('acme', { tool: 'falkordb_query', outcome: 'success', write: false, rowCount: 3, durationMs: 1.5 });
    assert.deepEqual(await usage.stats?.usageToday('acme'), counts({ requests: 2, queries: 1, rows: 3, queryMs: 1.5 }));
    assert.deepEqual(await usage.stats?.usageToday('widgets'), zeroCounters());
    assert.deepEqual(await usage.stats?.limits('paying'), { ratePerMinute: 3000, maxConcurrentQueries: 8 });
    assert.deepEqual(await usage.stats?.limits('acme'), { ratePerMinute: 600, maxConcurrentQueries: 8 });
    await usage.close();
  });
});
