// What the audit trail reuses between events gives exactly what it replaces.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { IsoTimes, QueryHashes } from './audit-cache.js';

describe('IsoTimes', () => {
  it('writes every time as toISOString does, whatever came before it', () => {
    const times = new IsoTimes();
    // Years 0 to 275760 (the largest Date): four-digit and six-digit years, before and after 1970.
    const instant = fc.integer({ min: -62_167_219_200_000, max: 8_640_000_000_000_000 });
    fc.assert(
      fc.property(fc.array(fc.oneof(instant, fc.integer({ min: 1_700_000_000_000, max: 1_700_000_002_000 })), { minLength: 1, maxLength: 20 }), (list) => {
        for (const ms of list) assert.equal(times.of(ms), new Date(ms).toISOString());
      }),
    );
  });

  it('pads the milliseconds within one second', () => {
    const times = new IsoTimes();
    for (const ms of [0, 7, 42, 999]) assert.equal(times.of(Date.UTC(2030, 0, 1) + ms), new Date(Date.UTC(2030, 0, 1) + ms).toISOString());
  });
});

describe('QueryHashes', () => {
  it('gives the SHA-256 of the text, the same on every call, for short texts and very long ones', () => {
    const hashes = new QueryHashes();
    const sha = (text: string) => createHash('sha256').update(text, 'utf8').digest('hex');
    for (const text of ['RETURN 1', 'MATCH (n {name: "é"}) RETURN n', 'x'.repeat(100_000)]) {
      assert.equal(hashes.of(text), sha(text));
      assert.equal(hashes.of(text), sha(text));
    }
  });
});
