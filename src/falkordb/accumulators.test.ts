import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { MAX_GROWING_REDUCE_STEPS, growingAccumulator } from './accumulators.js';
import { tokenizeCypher } from './cypher-tokens.js';
import { measureRangeElements } from './range-elements.js';

const growing = (query: string, parameters: Record<string, unknown> = {}): string | undefined => growingAccumulator(tokenizeCypher(query), parameters);

describe('growing reduce() accumulators', () => {
  it('lets number accumulators through whatever their list: sums, maxima, weights along a path', () => {
    for (const query of [
      'RETURN reduce(t = 0, x IN range(1, 100000000) | t + x)',
      'MATCH (n) WITH collect(n.price) AS ps RETURN reduce(t = 0.0, p IN ps | t + p * 1.2)',
      'RETURN reduce(m = -1, x IN $xs | CASE WHEN x > m THEN x ELSE m END)',
      'MATCH p = (a)-[*]->(b) RETURN reduce(w = 0, r IN relationships(p) | w + r.weight)',
      'RETURN reduce(acc = [], x IN $xs | x)',
    ]) {
      assert.equal(growing(query), undefined, query);
    }
  });

  it('refuses a list or string grown over a list it cannot measure, or too many steps', () => {
    assert.match(growing("MATCH (n) WITH collect(n.name) AS xs RETURN reduce(s = '', x IN xs | s + x)")!, /cannot work out/);
    assert.match(growing('RETURN reduce(acc = [], x IN n.list | acc + [x])')!, /cannot work out/);
    assert.match(growing(`RETURN reduce(acc = [], x IN range(1, ${MAX_GROWING_REDUCE_STEPS + 1}) | acc + [x])`)!, /steps/);
    assert.match(growing('RETURN reduce(acc = 0, x IN range(1, 20000) | acc + [x])')!, /steps/);
    assert.equal(growing(`RETURN reduce(acc = [], x IN range(1, ${MAX_GROWING_REDUCE_STEPS}) | acc + [x])`), undefined);
    assert.equal(growing('RETURN reduce(acc = [], x IN $xs | acc + [x])', { xs: [1, 2, 3] }), undefined);
  });

  it('counts a slice with literal bounds as at most its span, whatever the list', () => {
    assert.equal(growing("MATCH (n) WITH collect(n.name) AS xs RETURN reduce(s = '', x IN xs[0..1000] | s + x)"), undefined);
    assert.equal(growing("MATCH (n) WITH collect(n.name) AS xs RETURN reduce(s = '', x IN xs[..10] | s + x)"), undefined);
    assert.match(growing("MATCH (n) WITH collect(n.name) AS xs RETURN reduce(s = '', x IN xs[0..$n] | s + x)")!, /cannot work out/);
    assert.equal(measureRangeElements(tokenizeCypher('RETURN [x IN $xs[2..5] | range(1, 10)]')).elements, 30);
  });

  it('bounds an accumulator used more than once per step by uses to the power of steps', () => {
    assert.equal(growing('RETURN reduce(acc = [1], i IN range(1, 20) | acc + acc)'), undefined);
    assert.match(growing('RETURN reduce(acc = [1], i IN range(1, 21) | acc + acc)')!, /2\^21/);
    assert.match(growing("RETURN reduce(s = 'x', i IN range(1, 13) | s + s + s)")!, /3 times/);
    assert.match(growing('RETURN reduce(acc = [1], i IN range(1, 40) | [acc, acc])')!, /2\^40/);
    // A property or a map key of the same name is not the accumulator.
    assert.equal(growing('RETURN reduce(acc = [], x IN range(1, 10) | acc + [x.acc])'), undefined);
  });

  it('refuses a growing reduce() inside another iteration, and finds backtick and mixed-case names', () => {
    assert.match(growing('RETURN [i IN range(1, 10) | reduce(acc = [], x IN range(1, 10) | acc + [x])]')!, /inside another iteration/);
    assert.match(growing('RETURN reduce(o = [], i IN range(1, 10) | o + reduce(acc = [], x IN range(1, 10) | acc + [x]))')!, /inside another iteration/);
    assert.match(growing('RETURN REDUCE(`a b` = [1], i IN range(1, 30) | `a b` + `a b`)')!, /2\^30/);
    assert.equal(growing('RETURN x.reduce(acc = [1], i IN range(1, 30) | acc + acc)'), undefined);
  });
});
