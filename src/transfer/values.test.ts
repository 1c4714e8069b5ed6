// Pure parts of the transfer format: rebuilding exact floats from 15-digit
// halves, float literals, value shapes and the file's value check.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { exactFloat } from './decode.js';
import { floatLiteral, parameterLiteral, quoteName, shapeOf, valueExpression } from './encode.js';
import { valueProblem } from './format.js';

/** What FalkorDB does: the split on the server, every double printed with 15 significant digits. */
function serverView(x: number): { printed: string; split: string[] } {
  const print = (v: number) => v.toPrecision(15);
  const scale = Math.abs(x) >= 1e299 ? -100 : Math.abs(x) < 1e-290 ? 100 : 0;
  const y = x * 2 ** scale;
  const t = 134217729 * y;
  const hi = t - (t - y);
  return { printed: Object.is(x, -0) ? '-0' : print(x), split: [String(scale), print(hi), print(y - hi)] };
}

function assertRebuilt(x: number): void {
  const { printed, split } = serverView(x);
  const rebuilt = exactFloat(printed, split);
  assert.ok(typeof rebuilt === 'object' && !Array.isArray(rebuilt) && '$float' in rebuilt);
  const value = rebuilt.$float === '-0' ? -0 : rebuilt.$float;
  assert.ok(Object.is(value, x), `${x} came back as ${String(value)}`);
}

describe('exact floats', () => {
  it('rebuilds every finite double bit for bit from its 15-digit print and split', () => {
    fc.assert(fc.property(fc.double({ noNaN: true, noDefaultInfinity: true }), assertRebuilt), { numRuns: 20_000 });
  });

  it('rebuilds small doubles whose low half lies below 2^-998', () => {
    // Just above the split's scaling threshold, so the low half is tiny.
    for (const x of [1.266888204365138e-290, 1.0000000000000002e-290, -3.4e-290, 5e-324, 2.2250738585072014e-308]) assertRebuilt(x);
  });

  it('keeps NaN, infinities and -0 as names', () => {
    assert.deepEqual(exactFloat('-nan', undefined), { $float: 'NaN' });
    assert.deepEqual(exactFloat('inf', undefined), { $float: 'Infinity' });
    assert.deepEqual(exactFloat('-inf', undefined), { $float: '-Infinity' });
    assert.deepEqual(exactFloat('-0', undefined), { $float: '-0' });
  });

  it('refuses a split that does not match the printed value', () => {
    assert.throws(() => exactFloat('0.5', ['0', '0.25', '0']), /does not match/);
  });
});

describe('parameters', () => {
  it('writes floats so they stay floats', () => {
    assert.equal(floatLiteral(1), '1.0');
    assert.equal(floatLiteral(-0), '-0.0');
    assert.equal(floatLiteral(0.30000000000000004), '0.30000000000000004');
    assert.equal(floatLiteral(1e300), '1e+300');
  });

  it('escapes quotes and backslashes in strings and nothing else', () => {
    assert.equal(parameterLiteral('p', 'a"b\\c\nd'), '"a\\"b\\\\c\nd"');
  });

  it('rebuilds typed values with their function, element by element inside lists', () => {
    const value = [1, { $point: { latitude: 1, longitude: 2 } }, [{ $date: '2024-01-02' }]];
    const shape = shapeOf(value);
    assert.deepEqual(shape, ['p', 'point', ['date']]);
    assert.equal(valueExpression(shape, 'r[1]'), '[r[1][0], point(r[1][1]), [date(r[1][2][0])]]');
    assert.equal(parameterLiteral(shape, value), '[1, {latitude: 1.0, longitude: 2.0}, [{year: 2024, month: 1, day: 2}]]');
    assert.equal(valueExpression(shapeOf({ $float: 'Infinity' }), 'r[0]'), '(r[0] / 0.0)');
    assert.equal(parameterLiteral(shapeOf({ $float: 5e-324 }), { $float: 5e-324 }), floatLiteral(5e-324 * 2 ** 100));
  });

  it('quotes names in backticks and refuses one it cannot quote', () => {
    assert.equal(quoteName('weird key'), '`weird key`');
    assert.throws(() => quoteName('a`b'));
  });
});

describe('file values', () => {
  it('accepts every tagged form and says what is wrong with the rest, and where', () => {
    for (const ok of ['s', true, 3, [1, [2, 'x']], { $int: '-9223372036854775808' }, { $float: 0.5 }, { $float: 'NaN' }, { $point: { latitude: 1, longitude: 2 } }, { $vecf32: [1.5] }, { $datetime: '2024-01-02T03:04:05' }, { $date: '-0005-01-01' }, { $time: '23:59:59' }, { $duration: 'P1Y2M3DT4H5M6S' }]) {
      assert.equal(valueProblem(ok), undefined, JSON.stringify(ok));
    }
    assert.match(valueProblem(1.5)?.message ?? '', /write floats as/);
    assert.deepEqual(valueProblem([1, [2, { $float: 'nan' }]])?.path, [1, 1, '$float']);
    assert.match(valueProblem({ $float: 1, $int: '2' })?.message ?? '', /one of \$int/);
    assert.match(valueProblem(null)?.message ?? '', /must not be null/);
    assert.match(valueProblem({ $date: '2024-1-2' })?.message ?? '', /YYYY-MM-DD/);
  });
});
