import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isGatewayError } from '../errors.js';
import { cutToFit, cutValue, fitRows, moreCharactersMarker, moreItemsMarker, resultText } from './result-size.js';

const KIB = 1024;

function result(rows: Record<string, unknown>[], truncated = false) {
  return { graph: 'g', columns: Object.keys(rows[0] ?? {}), rows, rowCount: rows.length, truncated, stats: {}, executionTimeMs: 0.5 };
}

const size = (value: object): number => Buffer.byteLength(resultText(value as Record<string, unknown>), 'utf8');

describe('fitRows', () => {
  it('returns a result within the limit as it is, without a notice', () => {
    const small = result([{ x: 1 }, { x: 2 }]);
    const fitted = fitRows(small, 256 * KIB);
    assert.equal(fitted, small);
    assert.equal(fitted.notice, undefined);
    assert.equal(resultText(fitted), JSON.stringify(small));
  });

  it('says so when the row cap left rows out, though the result fits', () => {
    const fitted = fitRows(result([{ x: 1 }, { x: 2 }], true), 256 * KIB);
    assert.equal(fitted.truncated, true);
    assert.equal(fitted.totalRows, undefined);
    assert.equal(fitted.notice, 'Returned 2 of more than 2 rows: a query returns at most 2 rows here. Page through the rest with SKIP 2 LIMIT 2, or narrow the query with WHERE.');
    assert.deepEqual(JSON.parse(resultText(fitted)), fitted);
  });

  it('keeps the whole rows that fit and says how many came back of how many, and how to page', () => {
    const rows = Array.from({ length: 1000 }, (_, i) => ({ i, text: 'x'.repeat(50) }));
    const fitted = fitRows(result(rows), 8 * KIB);
    assert.equal(fitted.truncated, true);
    assert.ok(fitted.rowCount > 10 && fitted.rowCount < 1000, String(fitted.rowCount));
    assert.deepEqual(fitted.rows, rows.slice(0, fitted.rowCount));
    assert.equal(fitted.totalRows, 1000);
    assert.match(fitted.notice ?? '', new RegExp(`^Returned ${fitted.rowCount} of 1000 rows: the result is limited to 8192 bytes of JSON\\.`));
    assert.match(fitted.notice ?? '', new RegExp(`SKIP ${fitted.rowCount} LIMIT ${fitted.rowCount}`));
    assert.ok(size(fitted) <= 8 * KIB, String(size(fitted)));
  });

  it('says "more than" and leaves totalRows out when the row cap had already cut the result', () => {
    const rows = Array.from({ length: 500 }, (_, i) => ({ i, text: 'y'.repeat(40) }));
    const fitted = fitRows(result(rows, true), 4 * KIB);
    assert.equal(fitted.totalRows, undefined);
    assert.match(fitted.notice ?? '', new RegExp(`^Returned ${fitted.rowCount} of more than 500 rows`));
  });

  it('cuts a long list in a lone row, ending it with a marker that counts the dropped items', () => {
    const list = Array.from({ length: 300_000 }, (_, i) => i + 1);
    const fitted = fitRows(result([{ r: list }]), 256 * KIB);
    const cut = fitted.rows[0]!['r'] as unknown[];
    const kept = cut.length - 1;
    assert.ok(kept > 10_000, String(kept));
    assert.deepEqual(cut.slice(0, kept), list.slice(0, kept));
    assert.equal(cut[kept], moreItemsMarker(300_000 - kept));
    assert.equal(fitted.truncated, true);
    assert.equal(fitted.rowCount, 1);
    assert.equal(fitted.totalRows, undefined);
    assert.match(fitted.notice ?? '', /^Returned 1 of 1 rows/);
    assert.match(fitted.notice ?? '', /Long values in row 1 were cut/);
    assert.doesNotMatch(fitted.notice ?? '', /SKIP/);
    assert.ok(size(fitted) <= 256 * KIB && size(fitted) > 200 * KIB, String(size(fitted)));
  });

  it('cuts a long string, saying how many characters are left out', () => {
    const text = 'abcdefghij'.repeat(100_000);
    const fitted = fitRows(result([{ id: 7, text }]), 64 * KIB);
    const cut = fitted.rows[0]!['text'] as string;
    const match = /^(a[a-j]*)… \((\d+) more characters\)$/.exec(cut);
    assert.ok(match, cut.slice(-60));
    assert.equal(match[1]!.length + Number(match[2]), text.length);
    assert.ok(text.startsWith(match[1]!));
    assert.equal(fitted.rows[0]!['id'], 7);
    assert.ok(size(fitted) <= 64 * KIB);
  });

  it('cuts the first row when it alone is too big, and pages past it', () => {
    const rows = [{ r: 'z'.repeat(100_000) }, { r: 'small' }, { r: 'small' }];
    const fitted = fitRows(result(rows), 16 * KIB);
    assert.equal(fitted.rowCount, 1);
    assert.equal(fitted.totalRows, 3);
    assert.match(fitted.notice ?? '', /^Returned 1 of 3 rows.*SKIP 1 LIMIT 1/);
  });

  it('refuses with RESULT_TOO_LARGE only when not even the cut first row fits', () => {
    const wide = Object.fromEntries(Array.from({ length: 2000 }, (_, i) => [`column_${i}`, i]));
    assert.throws(
      () => fitRows(result([wide]), 4 * KIB),
      (error: unknown) => isGatewayError(error) && error.code === 'RESULT_TOO_LARGE' && /fewer columns/.test(error.message),
    );
  });

  it('counts bytes, not characters, of text beyond ASCII', () => {
    const fitted = fitRows(result([{ s: 'é'.repeat(50_000) }]), 16 * KIB);
    assert.ok(size(fitted) <= 16 * KIB, String(size(fitted)));
  });
});

describe('cutValue', () => {
  it('cuts lists inside lists and maps, leaving short values alone', () => {
    assert.deepEqual(cutValue({ a: Array(20).fill(1000), b: 'ok', n: 5 }, 3), { a: [1000, 1000, 1000, moreItemsMarker(17)], b: 'ok', n: 5 });
    const long = Array.from({ length: 100 }, (_, i) => i);
    assert.deepEqual(cutValue([long, [4]], 2), [[0, 1, moreItemsMarker(98)], [4]]);
  });

  it('leaves a list whole when its marker would be longer than the items it replaces', () => {
    assert.deepEqual(cutValue([1, 2, 3], 1), [1, 2, 3]);
    assert.deepEqual(cutValue(['a long string of text', 'another long string of text'], 1), ['a long string of text', moreItemsMarker(1)]);
  });

  it('cuts a map of many keys with a "…" key', () => {
    assert.deepEqual(cutValue({ a: 1, b: 2, c: 3 }, 1), { a: 1, '…': '2 more keys' });
  });

  it('never cuts a string to something longer than itself', () => {
    assert.equal(cutValue('short string', 2), 'short string');
  });

  it('never splits a surrogate pair', () => {
    const cut = cutValue('😀'.repeat(100), 3) as string;
    assert.equal(cut, `😀${moreCharactersMarker(198)}`);
  });
});

describe('cutToFit', () => {
  it('finds a cut within the room, or none', () => {
    const row = { r: Array.from({ length: 10_000 }, (_, i) => i) };
    const cut = cutToFit(row, 1000);
    assert.ok(cut !== undefined && JSON.stringify(cut).length <= 1000);
    assert.ok((cut['r'] as unknown[]).length > 100);
    assert.equal(cutToFit(row, 10), undefined);
  });
});
