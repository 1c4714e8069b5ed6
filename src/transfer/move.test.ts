// Pure parts of `tenant move`: what the second pass copies again, and how long it waits.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { recopyPlan, settleMs } from './move.js';

describe('recopyPlan', () => {
  it('copies again the graphs written during the copy, and those created since', () => {
    assert.deepEqual(recopyPlan(['a', 'b', 'c'], ['a', 'b', 'c', 'd'], ['c', 'a']), { copy: ['a', 'c', 'd'], drop: [] });
  });

  it('drops the copies of graphs deleted since, written or not', () => {
    assert.deepEqual(recopyPlan(['a', 'b', 'c'], ['a'], ['b']), { copy: [], drop: ['b', 'c'] });
  });

  it('ignores a graph written and deleted during the copy that was never copied', () => {
    assert.deepEqual(recopyPlan(['a'], ['a'], ['x']), { copy: [], drop: [] });
  });

  it('copies nothing again when nothing changed', () => {
    assert.deepEqual(recopyPlan(['a', 'b'], ['b', 'a'], []), { copy: [], drop: [] });
  });
});

describe('settleMs', () => {
  it('waits longer than the longest write, and than the policy cache', () => {
    for (const timeout of [1, 2000, 10_000, 3_600_000]) assert.ok(settleMs(timeout) > timeout + 1000);
  });

  it('grows with the query timeout', () => {
    assert.equal(settleMs(30_000) - settleMs(10_000), 20_000);
  });
});
