import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { tokenizeCypher } from './cypher-tokens.js';
import { repeatedCopies, unboundedNesting } from './nested-iterations.js';

const nesting = (query: string, parameters: Record<string, unknown> = {}): string | undefined => unboundedNesting(tokenizeCypher(query), parameters);

describe('nested iterations', () => {
  it('multiplies outer and inner lists it can measure, bound lists and slices included', () => {
    assert.equal(nesting('WITH range(1, 1000) AS a RETURN [x IN a | [y IN a | 1]]'), undefined);
    assert.match(nesting('WITH range(1, 100000) AS a RETURN [x IN a | [y IN a | 1]]')!, /10000000000 elements/);
    assert.match(nesting('RETURN [x IN range(1, 4000) | any(y IN range(1, 4000) WHERE x = y)]')!, /16000000/);
    assert.match(nesting('WITH range(1, 5000) AS a RETURN reduce(t = 0, x IN a | t + size([y IN a | y]))')!, /25000000/);
    assert.equal(nesting('RETURN [x IN $a | [y IN $b | x * y]]', { a: [1, 2], b: [3] }), undefined);
    assert.equal(nesting('WITH [3, 1, 4, 1, 5] AS xs RETURN [i IN range(0, size(xs) - 1) | reduce(s = 0, x IN xs[0..i + 1] | s + x)]'), undefined);
    assert.match(nesting('WITH range(1, 100000) AS a RETURN [x IN a[0..50000] | [y IN a | 1]]')!, /elements/);
  });

  it('lets an inner list taken from the outer element through, whatever its length', () => {
    assert.equal(nesting('MATCH p = (a)-[*1..3]->(b) WITH collect(p) AS paths RETURN [p IN paths | [n IN nodes(p) | n.name]]'), undefined);
    assert.equal(nesting('MATCH (n) RETURN [x IN n.items | [y IN x.parts | y]]'), undefined);
    assert.equal(nesting('MATCH (n) WITH collect(n) AS ns RETURN [x IN ns | [k IN keys(x) | x[k]]]'), undefined);
  });

  it('refuses an inner list from anywhere else when a length cannot be worked out', () => {
    assert.match(nesting('MATCH (n) WITH collect(n) AS ns RETURN [x IN ns | [y IN ns | x = y]]')!, /cannot work out/);
    assert.match(nesting('MATCH (n) RETURN [x IN n.big | [y IN n.big | 1]]')!, /cannot work out/);
    assert.match(nesting('UNWIND [range(1, 100000)] AS a RETURN [x IN a | [y IN a | 1]]')!, /cannot work out/);
    assert.match(nesting('MATCH (n) WITH collect(n) AS ns FOREACH (x IN ns | FOREACH (y IN ns | CREATE (:P)))')!, /cannot work out/);
    // A name bound to two lists counts as the longer.
    assert.match(nesting('WITH range(1, 10) AS a WITH range(1, 100000) AS a RETURN [x IN a | [y IN a | 1]]')!, /10000000000/);
  });
});

describe('values bound with AS', () => {
  const copies = (query: string): string | undefined => repeatedCopies(tokenizeCypher(query));
  const chain = (n: number, step = (v: string) => `WITH ${v} + ${v} AS ${v}`): string => `WITH [1] AS a ${Array.from({ length: n }, () => step('a')).join(' ')} RETURN size(a) AS n`;

  it('counts the copies of earlier values each holds, across WITH and UNWIND', () => {
    assert.equal(copies(chain(20)), undefined);
    assert.match(copies(chain(21))!, /2097152 copies/);
    assert.match(copies(chain(30, (v) => `UNWIND [${v} + ${v}] AS ${v}`))!, /1073741824 copies/);
    assert.match(copies(`WITH [1] AS a ${Array.from({ length: 11 }, () => 'WITH a + a AS b WITH b + b AS a').join(' ')} RETURN a`)!, /copies/);
  });

  it('lets values built once, and names used once per step, through', () => {
    assert.equal(copies('MATCH (n) WITH n, n.x AS x WITH n, x + 1 AS x RETURN x'), undefined);
    assert.equal(copies('WITH 1 AS a, 2 AS b WITH a + b AS c RETURN c'), undefined);
    assert.equal(copies('WITH [1] AS a WITH a + [2] AS a WITH a + [3] AS a RETURN a'), undefined);
  });
});
