// The graph names a completion offers.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { completeNames } from './completion-match.js';

describe('completeNames', () => {
  it('offers the names that start with what was typed, case aside, sorted', () => {
    assert.deepEqual(completeNames(['movies', 'Music', 'sales'], 'm'), { values: ['Music', 'movies'], total: 2, hasMore: false });
    assert.deepEqual(completeNames(['movies', 'sales'], ''), { values: ['movies', 'sales'], total: 2, hasMore: false });
    assert.deepEqual(completeNames(['movies'], 'x'), { values: [], total: 0, hasMore: false });
  });

  it('offers at most the cap, saying how many match and that there are more', () => {
    assert.deepEqual(completeNames(['a3', 'a1', 'a2', 'b'], 'a', 2), { values: ['a1', 'a2'], total: 3, hasMore: true });
    assert.deepEqual(completeNames(['a1', 'a2'], 'a', 2), { values: ['a1', 'a2'], total: 2, hasMore: false });
  });
});
