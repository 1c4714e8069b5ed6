import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { isDeepStrictEqual } from 'node:util';
import fc from 'fast-check';
import { canonicalJson, graphListCacheKey, queryCacheKey, schemaCacheKey, type QueryCacheKeyInput } from './cache-keys.js';

/** -0 and 0 reach FalkorDB as the same parameter text; everything else is compared as is. */
function normalized(value: unknown): unknown {
  if (Object.is(value, -0)) return 0;
  if (Array.isArray(value)) return value.map(normalized);
  if (value !== null && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, normalized(v)]));
  return value;
}

/** The same object with its keys (at every level) in reverse order. */
function reversedKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(reversedKeys);
  if (value !== null && typeof value === 'object') return Object.fromEntries(Object.entries(value).reverse().map(([k, v]) => [k, reversedKeys(v)]));
  return value;
}

const base: QueryCacheKeyInput = { tenant: 'acme', graph: 'g', query: 'MATCH (n) WHERE n.x = $x RETURN n', params: { x: 1 }, maxRows: 100 };

describe('canonicalJson', () => {
  it('ignores the order of object keys, at every level', () => {
    assert.equal(canonicalJson({ b: 1, a: { d: [1, 2], c: null } }), canonicalJson({ a: { c: null, d: [1, 2] }, b: 1 }));
    assert.equal(canonicalJson({ b: 1, a: { d: [1, 2], c: null } }), '{"a":{"c":null,"d":[1,2]},"b":1}');
  });

  it('keeps the order of array items', () => {
    assert.notEqual(canonicalJson([1, 2]), canonicalJson([2, 1]));
  });

  it('tells values of different types apart', () => {
    const values = [1, '1', true, 'true', null, 'null', [], {}, '[]', '{}', [null], { a: null }, { a: 'null' }, 0, '', false];
    const texts = values.map((v) => canonicalJson(v));
    assert.equal(new Set(texts).size, values.length, texts.join(' | '));
  });

  it('cannot be confused by quotes, commas or colons inside strings and keys', () => {
    assert.notEqual(canonicalJson({ 'a":1,"b': 2 }), canonicalJson({ a: 1, b: 2 }));
    assert.notEqual(canonicalJson(['a", "b']), canonicalJson(['a', 'b']));
  });

  it('gives -0 and 0 one text, as FalkorDB sees them', () => {
    assert.equal(canonicalJson({ x: -0 }), canonicalJson({ x: 0 }));
  });

  it('refuses what is not plain JSON, so such a call is never cached', () => {
    for (const value of [Number.NaN, Number.POSITIVE_INFINITY, undefined, () => 1, Symbol('s'), 10n, new Date(0), { a: undefined }, [1, Number.NaN], { nested: { x: new Map() } }]) {
      assert.equal(canonicalJson(value), undefined, String(typeof value));
    }
  });

  it('is equal for two values exactly when they are equal (property)', () => {
    fc.assert(
      fc.property(fc.jsonValue(), fc.jsonValue(), (a, b) => {
        assert.equal(canonicalJson(a) === canonicalJson(b), isDeepStrictEqual(normalized(a), normalized(b)));
      }),
      { numRuns: 2000 },
    );
  });

  it('is the same for a value whatever its key order, and parses back to it (property)', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        const text = canonicalJson(value);
        assert.ok(text !== undefined);
        assert.equal(canonicalJson(reversedKeys(value)), text);
        assert.deepStrictEqual(JSON.parse(text), normalized(value));
      }),
      { numRuns: 1000 },
    );
  });
});

describe('queryCacheKey', () => {
  it('differs when any one part differs', () => {
    const key = queryCacheKey(base);
    for (const changed of [
      { tenant: 'widgets' },
      { graph: 'h' },
      { query: `${base.query} ` },
      { params: { x: 2 } },
      { params: { x: '1' } },
      { params: { x: 1, y: 1 } },
      { params: undefined },
      { maxRows: 99 },
    ]) {
      assert.notEqual(queryCacheKey({ ...base, ...changed }), key, JSON.stringify(changed));
    }
  });

  it('is the same for the same parameters in another key order, and for none versus an empty object', () => {
    assert.equal(queryCacheKey({ ...base, params: { a: 1, b: [1, { d: 1, c: 2 }] } }), queryCacheKey({ ...base, params: { b: [1, { c: 2, d: 1 }], a: 1 } }));
    assert.equal(queryCacheKey({ ...base, params: undefined }), queryCacheKey({ ...base, params: {} }));
  });

  it('is undefined for parameters that are not plain JSON', () => {
    assert.equal(queryCacheKey({ ...base, params: { x: Number.NaN } }), undefined);
  });

  it('never gives two tenants the same key, whatever the graph, query and parameters (property)', () => {
    const tenant = fc.string({ minLength: 1, maxLength: 20 });
    const text = fc.string({ maxLength: 30 });
    fc.assert(
      fc.property(tenant, tenant, text, text, text, text, fc.dictionary(fc.string({ maxLength: 5 }), fc.jsonValue()), (t1, t2, g1, g2, q1, q2, params) => {
        fc.pre(t1 !== t2);
        const a = queryCacheKey({ tenant: t1, graph: g1, query: q1, params, maxRows: 10 });
        const b = queryCacheKey({ tenant: t2, graph: g2, query: q2, params, maxRows: 10 });
        assert.notEqual(a, b);
        // The key is a JSON array whose second item is the tenant: it can be read back, never guessed from the rest.
        assert.equal((JSON.parse(a!) as unknown[])[1], t1);
      }),
      { numRuns: 1000 },
    );
  });

  it('cannot be forged by moving text between the graph and the query', () => {
    assert.notEqual(queryCacheKey({ ...base, graph: 'g","x', query: 'q' }), queryCacheKey({ ...base, graph: 'g', query: 'x","q' }));
  });
});

describe('schema and graph list keys', () => {
  it('keep tenants and kinds apart', () => {
    assert.notEqual(schemaCacheKey('a', 'g'), schemaCacheKey('b', 'g'));
    assert.notEqual(graphListCacheKey('a'), graphListCacheKey('b'));
    assert.notEqual(schemaCacheKey('a', 'graphs'), graphListCacheKey('a'));
  });
});
