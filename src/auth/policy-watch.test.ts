// The reader of the policy change stream on its own, against a stream held in
// an array: what it reports after each poll, and when it gives up and says
// "everything changed".

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { ChangeEntry, PolicyChange } from '../state/policy-changes.js';
import { PolicyWatch, type PolicyChanges } from './policy-watch.js';

function fakeStream() {
  let entries: ChangeEntry[] = [];
  let seq = 0;
  let failing = false;
  const order = (id: string) => Number(id.split('-')[0]);
  return {
    add: (change: PolicyChange | undefined) => entries.push({ id: `${++seq}-0`, change }),
    trimTo: (keep: number) => (entries = entries.slice(-keep)),
    remove: () => (entries = []),
    fail: (on: boolean) => (failing = on),
    newest: () => (failing ? Promise.reject(new Error('down')) : Promise.resolve(entries.at(-1))),
    from: (from: string, count: number) => (failing ? Promise.reject(new Error('down')) : Promise.resolve(entries.filter((e) => order(e.id) >= order(from)).slice(0, count))),
  };
}

function watching(stream: ReturnType<typeof fakeStream>, clock: { at: number }, pageSize = 1000) {
  const seen: PolicyChanges[] = [];
  const watch = new PolicyWatch({ newest: stream.newest, from: stream.from, onChanges: (c) => seen.push(c), now: () => clock.at, intervalMs: 0, resyncAfterMs: 300_000, pageSize });
  const named = () => seen.map((c) => (c.all ? 'all' : [...[...c.tenants].map((t) => `tenant:${t}`), ...[...c.jtis].map((j) => `jti:${j}`)].sort().join(' ')));
  return { watch, named, clear: () => (seen.length = 0) };
}

describe('policy change stream reader', () => {
  it('starts by forgetting everything, then reports only the tenants and tokens named since the last poll', async () => {
    const stream = fakeStream();
    stream.add({ tenant: 'old' });
    const clock = { at: 1000 };
    const { watch, named, clear } = watching(stream, clock);
    assert.equal(watch.freshAt, undefined);
    await watch.poll();
    assert.deepEqual(named(), ['all']);
    assert.equal(watch.freshAt, 1000);
    clear();
    clock.at = 1500;
    await watch.poll();
    assert.deepEqual(named(), [], 'nothing new');
    assert.equal(watch.freshAt, 1500);
    stream.add({ tenant: 'acme' });
    stream.add({ jti: 'j1' });
    stream.add({ tenant: 'acme' });
    await watch.poll();
    assert.deepEqual(named(), ['jti:j1 tenant:acme']);
  });

  it('reads every page of a burst of changes', async () => {
    const stream = fakeStream();
    const clock = { at: 0 };
    const { watch, named, clear } = watching(stream, clock, 2);
    await watch.poll();
    clear();
    for (const t of ['a', 'b', 'c', 'd', 'e']) stream.add({ tenant: t });
    await watch.poll();
    assert.deepEqual(named().join(' ').split(' ').sort(), ['tenant:a', 'tenant:b', 'tenant:c', 'tenant:d', 'tenant:e']);
    clear();
    await watch.poll();
    assert.deepEqual(named(), []);
  });

  it('forgets everything when the entry it read last was trimmed away, or the stream is gone', async () => {
    const stream = fakeStream();
    stream.add({ tenant: 'a' });
    const clock = { at: 0 };
    const { watch, named, clear } = watching(stream, clock);
    await watch.poll();
    clear();
    stream.add({ tenant: 'b' });
    stream.add({ tenant: 'c' });
    stream.trimTo(1);
    await watch.poll();
    assert.deepEqual(named(), ['all'], 'b was trimmed unseen');
    clear();
    stream.remove();
    await watch.poll();
    assert.deepEqual(named(), ['all'], 'the stream is gone');
    clear();
    stream.add({ tenant: 'd' });
    await watch.poll();
    assert.deepEqual(named(), ['tenant:d'], 'a new stream is read from its start');
  });

  it('forgets everything for an entry it cannot read', async () => {
    const stream = fakeStream();
    const clock = { at: 0 };
    const { watch, named, clear } = watching(stream, clock);
    await watch.poll();
    clear();
    stream.add(undefined);
    await watch.poll();
    assert.deepEqual(named(), ['all']);
  });

  it('leaves freshAt where it was while polls fail, and starts over after a long outage', async () => {
    const stream = fakeStream();
    const clock = { at: 0 };
    const { watch, named, clear } = watching(stream, clock);
    await watch.poll();
    clear();
    stream.fail(true);
    clock.at = 500;
    await watch.poll();
    assert.equal(watch.freshAt, 0);
    assert.deepEqual(named(), []);
    stream.fail(false);
    clock.at = 1000;
    await watch.poll();
    assert.equal(watch.freshAt, 1000, 'a short outage: the stream says what was missed');
    assert.deepEqual(named(), []);
    clock.at = 1000 + 300_001;
    await watch.poll();
    assert.deepEqual(named(), ['all'], 'after a long one, entries may have been trimmed');
  });
});
