import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { tokenizeCypher } from './cypher-tokens.js';
import { measureRangeElements } from './range-elements.js';

const measure = (query: string, parameters: Record<string, unknown> = {}) => measureRangeElements(tokenizeCypher(query), parameters);
const elements = (query: string, parameters?: Record<string, unknown>): number => {
  const result = measure(query, parameters);
  assert.equal(result.unbounded, undefined, `${query}: ${result.unbounded}`);
  return result.elements;
};
const unbounded = (query: string, parameters?: Record<string, unknown>): string => {
  const reason = measure(query, parameters).unbounded;
  assert.ok(reason !== undefined, `expected ${query} to be reported unbounded`);
  return reason;
};

describe('range() elements', () => {
  it('works out spans from literals, parameters, steps, signs and integer arithmetic', () => {
    assert.equal(elements('RETURN range($a, $b)', { a: 1, b: 100 }), 100);
    assert.equal(elements('RETURN range(0, 100, 10)'), 11);
    assert.equal(elements('RETURN range(10, 1, -1)'), 10);
    assert.equal(elements('RETURN RANGE(1, 100000 * 100000)'), 10_000_000_000);
    assert.equal(elements('RETURN range(1, 10^10)'), 10_000_000_000);
    assert.equal(elements('RETURN range(1, 2^40)'), 2 ** 40);
    assert.equal(elements('RETURN range(-(5), (2 + 3) * 2)'), 16);
    assert.equal(elements('RETURN range(1, 0x10)'), 16);
    assert.equal(elements('RETURN range(1, $n * 10)', { n: 5 }), 50);
    assert.equal(elements('RETURN range(1, 10), range(1, 10)'), 20);
    assert.equal(elements('RETURN range(1, 0), range(5, 1)'), 0);
  });
  it('finds range() however it is spelled or quoted', () => {
    assert.equal(elements('RETURN `range`(1, 50)'), 50);
    assert.equal(elements('RETURN RaNgE /* c */ (1, 50)'), 50);
    assert.equal(elements('RETURN `RANGE`(1, 50)'), 50);
    assert.equal(elements("MATCH (n) RETURN n.range, {range: 5}, 'range(1, n)', `range(x)`"), 0);
  });
  it('reports bounds it cannot work out: variables, properties, function results', () => {
    assert.match(unbounded('WITH 5000000000 AS n RETURN size(range(1, n))'), /a bound the gateway cannot work out \(n\)/);
    assert.match(unbounded('MATCH (x) RETURN range(1, x.n)'), /\(x\.n\)/);
    assert.match(unbounded("RETURN range(1, toInteger('5000000000'))"), /cannot work out \(toInteger\('5000000000'\)\)/);
    assert.match(unbounded('RETURN `range`(1, abs(-5000000000))'), /cannot work out/);
    assert.match(unbounded('RETURN RANGE(1, size(range(1, 10)) * size(range(1, 10)))'), /cannot work out/);
    assert.match(unbounded('RETURN range(1)'), /1 argument/);
  });
  it('reports a missing parameter and one that is not an integer', () => {
    assert.match(unbounded('RETURN range(1, $n)'), /parameter \$n, which was not sent/);
    assert.match(unbounded('RETURN range(1, $n)', { n: '9999999999' }), /parameter \$n, which is not an integer/);
    assert.match(unbounded('RETURN range(1, $n)', { n: 1.5 }), /not an integer/);
    assert.match(unbounded('RETURN range(1, $n)', { n: [1, 2] }), /not an integer/);
  });
  it('counts size(…) and length(…) bounds as list-bound calls, with their fixed part as elements', () => {
    assert.deepEqual(measure('WITH [1, 2] AS xs RETURN range(0, size(xs) - 1)'), { elements: 0, listBoundCalls: 1 });
    assert.deepEqual(measure('MATCH p = ()-[*]->() RETURN range(1, length(p))'), { elements: 0, listBoundCalls: 1 });
    assert.deepEqual(measure('RETURN range(0, size($xs) - 1)', { xs: [1, 2] }), { elements: 0, listBoundCalls: 1 });
    assert.deepEqual(measure('RETURN range(-5000000000, size($xs))', { xs: [] }), { elements: 5_000_000_001, listBoundCalls: 1 });
    assert.deepEqual(measure('RETURN range(size(a), size(b))'), { elements: 1, listBoundCalls: 2 });
    assert.match(unbounded('RETURN range(0, size(xs) * 1000)'), /cannot work out/);
    assert.match(unbounded('RETURN range(0, 10, size(xs))'), /step the gateway cannot work out/);
  });
});

describe('range() inside iterations', () => {
  it('multiplies a range() in a list comprehension by the list it iterates', () => {
    assert.equal(elements('RETURN [x IN range(1, 100000) | range(1, 100000)]'), 100_000 + 100_000 * 100_000);
    assert.equal(elements('RETURN [x IN [1, 2, 3] WHERE x > 1 | range(1, 10)]'), 30);
    assert.equal(elements('RETURN [x IN [y IN range(1, 10) | y * 2] | range(1, 10)]'), 10 + 100);
    assert.equal(elements('RETURN [x IN range(0, 9) | x * 2]'), 10);
  });
  it('multiplies in reduce(), quantifiers and FOREACH', () => {
    assert.equal(elements('RETURN reduce(acc = range(1, 5), x IN range(1, 1000) | acc + range(1, 1000))'), 5 + 1000 + 1000 * 1000);
    for (const q of ['any', 'all', 'none', 'single']) {
      assert.equal(elements(`RETURN ${q}(x IN range(1, 1000) WHERE x IN range(1, 1000))`), 1000 + 1000 * 1000, q);
    }
    assert.equal(elements('FOREACH (x IN $xs | CREATE (:N {v: range(1, 100)}))', { xs: [1, 2, 3] }), 300);
  });
  it('multiplies everything after an UNWIND, and stops at UNION', () => {
    assert.equal(elements('UNWIND range(1, 100000) AS x RETURN size(range(1, 100000))'), 100_000 + 100_000 * 100_000);
    assert.equal(elements('UNWIND [1, 2] AS x UNWIND [1, 2, 3] AS y RETURN range(1, 10)'), 60);
    assert.equal(elements('UNWIND $rows AS row RETURN range(1, 10)', { rows: [{}, {}] }), 20);
    assert.equal(elements('UNWIND range(1, 10) AS x RETURN x UNION RETURN range(1, 10) AS x'), 20);
    assert.equal(elements('CALL { UNWIND range(1, 10) AS x RETURN x } RETURN range(1, 10)'), 110);
    assert.equal(elements('UNWIND [] AS x RETURN range(1, 5000000000)'), 0);
  });
  it('nests iterations: the product of every list around the call', () => {
    assert.equal(elements('UNWIND range(1, 10) AS a RETURN [b IN range(1, 10) | [c IN range(1, 10) | range(1, 10)]]'), 10 + 100 + 1000 + 10000);
  });
  it('counts a list-bound range() once per element iterated around it', () => {
    assert.equal(measure('UNWIND [1, 2, 3] AS x WITH x, [1, 2] AS xs RETURN range(0, size(xs) - 1)').listBoundCalls, 3);
  });
  it('reports a range() inside an iteration over a list of unknown length', () => {
    assert.match(unbounded('MATCH (n) RETURN [x IN n.list | range(1, 1000)]'), /inside an iteration .* whose length the gateway cannot work out/);
    assert.match(unbounded('MATCH (n) UNWIND n.list AS x RETURN range(1, 1000)'), /inside an iteration/);
    assert.match(unbounded('RETURN [(a)-->(b) | range(1, 1000)]'), /inside an iteration/);
    assert.match(unbounded('UNWIND $rows AS row RETURN range(1, 10)'), /inside an iteration/);
    assert.match(unbounded('WITH [1] AS xs UNWIND range(0, size(xs) - 1) AS i RETURN range(1, 10)'), /inside an iteration/);
    assert.match(unbounded('MATCH (n) RETURN reduce(acc = [], x IN n.list | acc + range(1, 10))'), /inside an iteration/);
  });
  it('lets an iteration over an unknown list through when no range() is inside it', () => {
    assert.deepEqual(measure('MATCH p = (a)-[*]->(b) FOREACH (n IN nodes(p) | SET n.marked = true) WITH range(1, 10) AS r UNWIND r AS x RETURN x'), { elements: 10, listBoundCalls: 0 });
    assert.deepEqual(measure('MATCH (n) RETURN [x IN n.list | x * 2], [(n)-->(m) | m.name]'), { elements: 0, listBoundCalls: 0 });
  });
});
