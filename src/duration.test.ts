// Durations: every accepted form, every refused one, and formatting that reads back.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { GatewayError } from './errors.js';
import { formatDuration, parseDuration } from './duration.js';

describe('parseDuration', () => {
  const good: Array<[string, number]> = [
    ['90', 90],
    ['30s', 30],
    ['15m', 900],
    ['1h', 3600],
    ['24h', 86_400],
    ['7d', 604_800],
    ['2w', 1_209_600],
    [' 15M ', 900],
    ['1H', 3600],
    ['010m', 600],
  ];
  for (const [text, seconds] of good) {
    it(`reads ${JSON.stringify(text)} as ${seconds} seconds`, () => {
      assert.equal(parseDuration(text), seconds);
    });
  }

  const bad = ['', ' ', '0', '0s', '0d', '-5m', '1.5h', '1h30m', '15 m', 'm', '15x', '15ms', '1y', 'ten', '99999999999999999999w'];
  for (const text of bad) {
    it(`refuses ${JSON.stringify(text)} and says which forms are accepted`, () => {
      assert.throws(
        () => parseDuration(text),
        (e: unknown) => e instanceof GatewayError && e.code === 'REQUEST_INVALID' && e.message.includes('30s, 15m, 1h, 7d or 2w'),
      );
    });
  }
});

describe('formatDuration', () => {
  it('uses the largest unit that divides exactly', () => {
    assert.equal(formatDuration(3600), '1h');
    assert.equal(formatDuration(30 * 86_400), '30d');
    assert.equal(formatDuration(5400), '90m');
    assert.equal(formatDuration(14 * 86_400), '2w');
    assert.equal(formatDuration(90), '90s');
    assert.equal(formatDuration(0), '0s');
  });

  it('writes what parseDuration reads back', () => {
    for (const seconds of [1, 59, 60, 61, 3599, 3600, 86_399, 86_400, 604_800, 400 * 86_400]) {
      assert.equal(parseDuration(formatDuration(seconds)), seconds);
    }
  });

  it('refuses fractions and negative numbers', () => {
    assert.throws(() => formatDuration(1.5), RangeError);
    assert.throws(() => formatDuration(-1), RangeError);
  });
});
