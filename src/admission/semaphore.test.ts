// The semaphore and the concurrency gate on their own: slots, FIFO order,
// queue bounds and timeouts, and the tenant-before-shared acquisition order.

import { describe, it } from 'node:test';
import { setImmediate as nextTurn } from 'node:timers/promises';
import assert from 'node:assert/strict';
import { GatewayError } from '../errors.js';
import type { GraphOperations } from '../falkordb/graphs.js';
import { EMPTY_SCHEMA } from '../../test/unit/fake-graph-ops.js';
import { ConcurrencyGate } from './concurrency.js';
import { Semaphore } from './semaphore.js';

/** A promise and the function that settles it, for operations the test finishes by hand. */
function deferred<T = void>(): { promise: Promise<T>; resolve: (value: T) => void } {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

// Long enough never to run out in a test that releases slots by hand.
const FOREVER_MS = 60_000;

describe('Semaphore', () => {
  it('hands out slots up to its limit at once', async () => {
    const s = new Semaphore(2, 0);
    assert.ok(await s.acquire(0));
    assert.ok(await s.acquire(0));
    assert.equal(await s.acquire(0), undefined);
    assert.equal(s.active, 2);
  });

  it('gives a released slot to waiters in the order they came', async () => {
    const s = new Semaphore(1, 3);
    const first = (await s.acquire(0))!;
    const order: string[] = [];
    const waits = ['a', 'b', 'c'].map(async (name) => {
      const release = await s.acquire(FOREVER_MS);
      order.push(name);
      return release!;
    });
    assert.equal(s.waiting, 3);
    first();
    (await waits[0]!)();
    (await waits[1]!)();
    (await waits[2]!)();
    assert.deepEqual(order, ['a', 'b', 'c']);
    assert.ok(s.idle);
  });

  it('refuses at once when its queue is full', async () => {
    const s = new Semaphore(1, 1);
    const held = (await s.acquire(0))!;
    const queued = s.acquire(FOREVER_MS);
    assert.equal(await s.acquire(FOREVER_MS), undefined);
    held();
    (await queued)!();
  });

  it('gives up on a wait that runs out, and leaves the queue', async () => {
    const s = new Semaphore(1, 5);
    const held = (await s.acquire(0))!;
    assert.equal(await s.acquire(10), undefined);
    assert.equal(s.waiting, 0);
    held();
    assert.ok(s.idle);
  });

  it('does not let a newcomer jump ahead of a waiter when a slot frees', async () => {
    const s = new Semaphore(1, 2);
    const held = (await s.acquire(0))!;
    const waiter = s.acquire(FOREVER_MS);
    held();
    assert.equal(await s.acquire(0), undefined);
    (await waiter)!();
  });

  it('ignores a second release of the same slot', async () => {
    const s = new Semaphore(1, 0);
    const release = (await s.acquire(0))!;
    release();
    release();
    assert.equal(s.active, 0);
    assert.ok(await s.acquire(0));
    assert.equal(s.active, 1);
  });
});

describe('Semaphore and an abort signal', () => {
  it('gives up a queued place when its signal aborts, so the next waiter gets the slot', async () => {
    const s = new Semaphore(1, 2);
    const first = (await s.acquire(0))!;
    const controller = new AbortController();
    const cancelled = s.acquire(FOREVER_MS, controller.signal);
    const next = s.acquire(FOREVER_MS);
    assert.equal(s.waiting, 2);
    controller.abort();
    assert.equal(await cancelled, undefined);
    assert.equal(s.waiting, 1);
    first();
    assert.ok(await next);
    assert.equal(s.active, 1);
  });

  it('refuses at once a signal that is already aborted, even with a free slot', async () => {
    const s = new Semaphore(1, 1);
    assert.equal(await s.acquire(FOREVER_MS, AbortSignal.abort()), undefined);
    assert.equal(s.active, 0);
  });

  it('keeps a granted slot when the signal aborts after the grant', async () => {
    const s = new Semaphore(1, 1);
    const controller = new AbortController();
    const release = (await s.acquire(0, controller.signal))!;
    controller.abort();
    assert.equal(s.active, 1);
    release();
    assert.equal(s.active, 0);
  });
});

describe('ConcurrencyGate', () => {
  const limits = { maxConcurrentPerTenant: 2, maxConcurrent: 3, queueTimeoutMs: FOREVER_MS };

  async function refusal(promise: Promise<unknown>): Promise<GatewayError> {
    const error = await promise.then(() => undefined, (e: unknown) => e);
    assert.ok(error instanceof GatewayError, `expected TOO_MANY_QUERIES, got ${String(error)}`);
    assert.equal(error.code, 'TOO_MANY_QUERIES');
    return error;
  }

  it('refuses a tenant beyond its cap and its queue with TOO_MANY_QUERIES and Retry-After 1', async () => {
    const gate = new ConcurrencyGate(limits);
    const slow = deferred();
    const running = [gate.run('a', () => slow.promise), gate.run('a', () => slow.promise)];
    const queued = [gate.run('a', () => slow.promise), gate.run('a', () => slow.promise)];
    const error = await refusal(gate.run('a', () => slow.promise));
    assert.match(error.message, /Too many concurrent queries for tenant "a".*try again shortly/);
    assert.equal(error.details.retryAfterSec, '1');
    slow.resolve();
    await Promise.all([...running, ...queued]);
    assert.deepEqual(gate.load('a'), { active: 0, waiting: 0 });
  });

  it('keeps a tenant that waits for its own slot from holding a shared one', async () => {
    // A finite wait, so a gate that let tenant a hold every shared slot fails this test instead of hanging it.
    const gate = new ConcurrencyGate({ ...limits, queueTimeoutMs: 5000 });
    const slow = deferred();
    // Tenant a: two running (its cap), two queued behind them; the instance has 3 slots.
    const flood = [1, 2, 3, 4].map(() => gate.run('a', () => slow.promise));
    await nextTurn();
    assert.deepEqual(gate.load(), { active: 2, waiting: 0 });
    assert.equal(await gate.run('b', () => Promise.resolve('b done')), 'b done');
    slow.resolve();
    await Promise.all(flood);
  });

  it('queues a tenant for a shared slot and refuses it when the wait runs out', async () => {
    const gate = new ConcurrencyGate({ maxConcurrentPerTenant: 2, maxConcurrent: 2, queueTimeoutMs: 20 });
    const slow = deferred();
    const busy = [gate.run('a', () => slow.promise), gate.run('a', () => slow.promise)];
    const error = await refusal(gate.run('b', () => Promise.resolve()));
    assert.match(error.message, /on this gateway instance \(2 at once across all tenants\)/);
    // b's own slot was handed back along with the refusal.
    assert.deepEqual(gate.load('b'), { active: 0, waiting: 0 });
    slow.resolve();
    await Promise.all(busy);
  });

  it("holds a cancelled operation's slot until the operation ends: cancelling and sending again cannot exceed the cap", async () => {
    const gate = new ConcurrencyGate({ maxConcurrentPerTenant: 1, maxConcurrent: 10, queueTimeoutMs: 0 });
    const slow = deferred();
    const controller = new AbortController();
    const running = gate.run('a', () => slow.promise, controller.signal);
    await nextTurn();
    controller.abort(new Error('cancelled'));
    // The database still runs the first operation: a second one is refused, not run beside it.
    await refusal(gate.run('a', () => Promise.resolve()));
    assert.deepEqual(gate.load('a'), { active: 1, waiting: 0 });
    slow.resolve();
    await running;
    assert.deepEqual(gate.load('a'), { active: 0, waiting: 0 });
    assert.equal(await gate.run('a', () => Promise.resolve('next')), 'next');
  });

  it('drops a cancelled operation from the queue: it never runs, and the next in line gets the slot', async () => {
    const gate = new ConcurrencyGate({ maxConcurrentPerTenant: 1, maxConcurrent: 10, queueTimeoutMs: FOREVER_MS });
    const slow = deferred();
    const running = gate.run('a', () => slow.promise);
    const controller = new AbortController();
    let ran = false;
    const queued = gate.run('a', async () => void (ran = true), controller.signal);
    await nextTurn();
    assert.deepEqual(gate.load('a'), { active: 1, waiting: 1 });
    controller.abort(new Error('cancelled'));
    await assert.rejects(queued, /cancelled/);
    assert.deepEqual(gate.load('a'), { active: 1, waiting: 0 });
    slow.resolve();
    await running;
    assert.equal(ran, false);
    assert.deepEqual(gate.load(), { active: 0, waiting: 0 });
  });

  it('frees the slot when the operation fails', async () => {
    const gate = new ConcurrencyGate({ maxConcurrentPerTenant: 1, maxConcurrent: 1, queueTimeoutMs: 0 });
    await assert.rejects(gate.run('a', () => Promise.reject(new Error('boom'))), /boom/);
    assert.equal(await gate.run('a', () => Promise.resolve(1)), 1);
  });

  it('runs every graph operation under the caps and passes the database through', async () => {
    const gate = new ConcurrencyGate({ maxConcurrentPerTenant: 1, maxConcurrent: 10, queueTimeoutMs: 0 });
    const slow = deferred();
    const database = { address: 'test' } as GraphOperations['database'];
    const graphs: GraphOperations = {
      query: () => slow.promise.then(() => ({ columns: [], rows: [], rowCount: 0, truncated: false, stats: {}, executionTimeMs: null })),
      explain: () => Promise.resolve(['Results']),
      listKeys: () => Promise.resolve(['k']),
      deleteGraph: () => Promise.resolve(true),
      schema: () => Promise.resolve(EMPTY_SCHEMA),
      createConstraint: () => Promise.resolve({ created: true, indexCreated: false, status: 'OPERATIONAL' }),
      dropConstraint: () => Promise.resolve(true),
      database,
    };
    const wrapped = gate.wrap('a', graphs);
    assert.equal(wrapped.database, database);
    const running = wrapped.query({ key: 'a_g', query: 'RETURN 1', readOnly: true, timeoutMs: 1000, maxRows: 1 });
    await refusal(wrapped.listKeys('a_'));
    await refusal(wrapped.deleteGraph('a_g'));
    await refusal(wrapped.schema('a_g', 1000));
    await refusal(wrapped.explain({ key: 'a_g', query: 'RETURN 1', timeoutMs: 1000 }));
    const spec = { kind: 'unique', entity: 'node', label: 'P', properties: ['id'] } as const;
    await refusal(wrapped.createConstraint('a_g', { ...spec, properties: [...spec.properties] }, 1000));
    await refusal(wrapped.dropConstraint('a_g', { ...spec, properties: [...spec.properties] }, 1000));
    slow.resolve();
    await running;
    assert.deepEqual(await wrapped.listKeys('a_'), ['k']);
  });
});
