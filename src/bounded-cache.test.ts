import assert from 'node:assert/strict';
import { test } from 'node:test';
import { boundedCache } from './bounded-cache.js';

test('keeps at most its number of entries, evicting the least recently used', () => {
  const cache = boundedCache<string, number>(3);
  cache.set('a', 1);
  cache.set('b', 2);
  cache.set('c', 3);
  assert.equal(cache.get('a'), 1); // a is now the most recent
  cache.set('d', 4);
  assert.equal(cache.size, 3);
  assert.equal(cache.has('b'), false, 'b, the least recently used, went');
  assert.deepEqual([...cache.keys()].sort(), ['a', 'c', 'd']);
});

test('holds many more entries than a small start without a bound being hit early', () => {
  const cache = boundedCache<number, number>(50_000);
  for (let i = 0; i < 60_000; i++) cache.set(i, i);
  assert.equal(cache.size, 50_000);
  assert.equal(cache.get(59_999), 59_999);
  assert.equal(cache.has(9_999), false);
});

test('passes other options on (ttl)', () => {
  let now = 1_000;
  const cache = boundedCache<string, string>(10, { ttl: 100, ttlResolution: 0, perf: { now: () => now } });
  cache.set('k', 'v');
  now += 50;
  assert.equal(cache.get('k'), 'v');
  now += 100;
  assert.equal(cache.get('k'), undefined);
});
