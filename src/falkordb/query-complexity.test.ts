import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { REALISTIC_QUERIES } from '../../test/fixtures/realistic-queries.js';
import { tokenizeCypher } from './cypher-tokens.js';
import { assertQueryNotTooComplex, MAX_EXPRESSION_DEPTH, MAX_LIST_BOUND_RANGES, MAX_PARSE_COST, MAX_RANGE_ELEMENTS, measureQueryComplexity } from './query-complexity.js';

const nest = (open: string, core: string, close: string, depth: number): string => `RETURN ${open.repeat(depth)}${core}${close.repeat(depth)}`;

describe('Cypher tokenizer', () => {
  it('keeps strings, backtick names and parameters whole and drops comments', () => {
    const tokens = tokenizeCypher("MATCH (n:`a(b`) /* ((( */ WHERE n.x = 'it''s (' // (((\nRETURN $p, \"[\\\"\" , 1.5e3");
    assert.deepEqual(
      tokens.map((t) => `${t.kind}:${t.text}`),
      ['word:MATCH', 'punct:(', 'word:n', 'punct::', 'name:`a(b`', 'punct:)', 'word:WHERE', 'word:n', 'punct:.', 'word:x', 'punct:=', "string:'it'", "string:'s ('", 'word:RETURN', 'param:p', 'punct:,', 'string:"[\\""', 'punct:,', 'number:1.5e3'],
    );
  });
  it('reads a slice range as two numbers, not a decimal', () => {
    assert.deepEqual(tokenizeCypher('[0..10]').map((t) => t.text), ['[', '0', '..', '10', ']']);
  });
  it('ends on an unterminated string or comment', () => {
    assert.equal(tokenizeCypher("RETURN '((((").length, 2);
    assert.equal(tokenizeCypher('RETURN /* ((((').length, 1);
  });
});

describe('query complexity', () => {
  const blowUps: Array<[string, (d: number) => string, number]> = [
    ['parentheses', (d) => nest('(', '1', ')', d), 1],
    ['brackets', (d) => nest('[', '1', ']', d), 1],
    ['map braces', (d) => nest('{a:', '1', '}', d), 1],
    ['minus chains', (d) => `RETURN ${'-'.repeat(d)}1`, 1],
    ['spaced minus chains', (d) => `RETURN ${'- '.repeat(d)}1`, 1],
    ['plus chains', (d) => `RETURN ${'+'.repeat(d)}1`, 1],
    ['NOT chains', (d) => `RETURN ${'NOT '.repeat(d)}true`, 1],
    ['negated parentheses', (d) => nest('-(', '1', ')', d), 2],
    ['NOT with parentheses', (d) => nest('NOT (', 'true', ')', d), 2],
    ['nested list comprehensions', (d) => nest('[x IN ', '$xs', ' | x]', d), 1],
    ['nested CASE', (d) => nest('CASE WHEN true THEN ', '1', ' END', d), 1],
    ['nested function calls', (d) => nest('abs(', '1', ')', d), 1],
  ];
  for (const [name, shape, levelsPerStep] of blowUps) {
    it(`counts ${name} as nesting and refuses them past the limit`, () => {
      assert.equal(measureQueryComplexity(shape(5)).depth, 5 * levelsPerStep);
      const deep = shape(Math.ceil((MAX_EXPRESSION_DEPTH + 1) / levelsPerStep));
      assert.throws(() => assertQueryNotTooComplex(deep), (error: { code: string; message: string }) => {
        assert.equal(error.code, 'QUERY_TOO_COMPLEX');
        assert.match(error.message, new RegExp(`this gateway allows at most ${MAX_EXPRESSION_DEPTH}\\b`));
        return true;
      });
    });
  }
  it('names the depth it found in the message', () => {
    assert.throws(() => assertQueryNotTooComplex(nest('(', '1', ')', 24)), /nests expressions 24 levels deep/);
  });
  it('does not count operators of a flat chain as nesting', () => {
    assert.equal(measureQueryComplexity(`RETURN 1${' - 1'.repeat(500)}`).depth, 0);
    assert.equal(measureQueryComplexity(`RETURN ${Array(500).fill('NOT true').join(' AND ')}`).depth, 1);
    assert.equal(measureQueryComplexity(`RETURN ${Array(500).fill('-1').join(' - ')}`).depth, 1);
    assert.equal(measureQueryComplexity('MATCH (n) WHERE n.x IS NOT NULL RETURN n').depth, 1);
  });
  it('ignores brackets and keywords inside strings, backtick names and comments', () => {
    const q = `RETURN '${'('.repeat(50)}', \`${'['.repeat(50)}\` // ${'NOT '.repeat(50)}\n/* ${'{'.repeat(50)} */`;
    assert.equal(measureQueryComplexity(q).depth, 0);
  });
  it('refuses many moderately nested expressions by their summed cost', () => {
    const unit = '('.repeat(10) + '1' + ')'.repeat(10);
    const q = `RETURN [${Array(100).fill(unit).join(',')}]`;
    assert.ok(measureQueryComplexity(q).depth <= MAX_EXPRESSION_DEPTH);
    assert.throws(() => assertQueryNotTooComplex(q), (error: { code: string; message: string }) => {
      assert.equal(error.code, 'QUERY_TOO_COMPLEX');
      assert.match(error.message, new RegExp(`allows at most ${MAX_PARSE_COST}\\.`));
      return true;
    });
  });
  it('lets a query of flat literal data as long as the length limit through', () => {
    const rows = Array.from({ length: 2000 }, (_, i) => `{id: ${i}, name: 'name-${i}', tags: ['a']}`).join(', ');
    const q = `UNWIND [${rows}] AS row CREATE (:R {id: row.id})`;
    assert.ok(q.length > 70_000);
    assert.doesNotThrow(() => assertQueryNotTooComplex(q));
  });
  it('scans a long hostile query without recursion trouble', () => {
    const q = `RETURN range(${'('.repeat(200_000)}1${')'.repeat(200_000)}, 2)`;
    assert.equal(measureQueryComplexity(q).depth, 200_001);
  });
});

describe('range() spans', () => {
  it('refuses a literal span beyond the limit', () => {
    assert.throws(() => assertQueryNotTooComplex('RETURN size(range(1, 5000000000))'), (error: { code: string; message: string }) => {
      assert.equal(error.code, 'QUERY_TOO_COMPLEX');
      assert.match(error.message, new RegExp(`build 5000000000 elements; this gateway allows at most ${MAX_RANGE_ELEMENTS} per query`));
      return true;
    });
  });
  it('refuses a span that comes from parameter values', () => {
    assert.throws(() => assertQueryNotTooComplex('UNWIND range($from, $to) AS i RETURN count(i)', { from: 0, to: 2e9 }), { code: 'QUERY_TOO_COMPLEX' });
  });
  it('refuses the sum of several spans that are each below the limit', () => {
    const half = MAX_RANGE_ELEMENTS / 2 + 1;
    assert.throws(() => assertQueryNotTooComplex(`RETURN size(range(1, ${half})) + size(range(1, ${half}))`), { code: 'QUERY_TOO_COMPLEX' });
  });
  it('refuses a range() whose bounds it cannot work out, saying what to use instead', () => {
    assert.throws(() => assertQueryNotTooComplex('WITH 5000000000 AS n RETURN size(range(1, n))'), (error: { code: string; message: string }) => {
      assert.equal(error.code, 'QUERY_TOO_COMPLEX');
      assert.match(error.message, /range\(\) with a bound the gateway cannot work out \(n\)/);
      assert.match(error.message, new RegExp(`at most ${MAX_RANGE_ELEMENTS} per query.*integer literals or parameters`));
      return true;
    });
  });
  it('refuses a range() multiplied by the list it is iterated over beyond the limit', () => {
    assert.throws(() => assertQueryNotTooComplex('RETURN size([x IN range(1, 100000) | range(1, 100000)])'), /build 10000100000 elements/);
  });
  it(`refuses more than ${MAX_LIST_BOUND_RANGES} range() calls bounded by size() or length()`, () => {
    const calls = Array.from({ length: MAX_LIST_BOUND_RANGES + 1 }, () => 'range(0, size(xs) - 1)').join(', ');
    assert.doesNotThrow(() => assertQueryNotTooComplex(`WITH [1] AS xs RETURN ${calls.slice(calls.indexOf(',') + 2)}`));
    assert.throws(() => assertQueryNotTooComplex(`WITH [1] AS xs RETURN ${calls}`), new RegExp(`${MAX_LIST_BOUND_RANGES + 1} range\\(\\) calls bounded by size\\(\\) or length\\(\\).*at most ${MAX_LIST_BOUND_RANGES} per query`));
  });
  it('allows a span at the limit and properties named range', () => {
    assert.doesNotThrow(() => assertQueryNotTooComplex('MATCH (n) RETURN n.range, {range: 5}'));
    assert.doesNotThrow(() => assertQueryNotTooComplex(`RETURN range(1, ${MAX_RANGE_ELEMENTS})`));
  });
});

describe('realistic queries', () => {
  it('has a corpus of at least 40 queries', () => {
    assert.ok(REALISTIC_QUERIES.length >= 40, String(REALISTIC_QUERIES.length));
  });
  for (const { name, query, parameters } of REALISTIC_QUERIES) {
    it(`lets through: ${name}`, () => {
      assert.doesNotThrow(() => assertQueryNotTooComplex(query, parameters));
    });
  }
});
