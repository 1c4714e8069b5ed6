import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { cypherParamsPrefix } from './params.js';

describe('cypherParamsPrefix', () => {
  it('is empty without parameters', () => {
    assert.equal(cypherParamsPrefix(undefined), '');
    assert.equal(cypherParamsPrefix({}), '');
  });
  it('serialises scalars, lists and maps', () => {
    assert.equal(cypherParamsPrefix({ a: 1, b: 'x', c: null, d: true, e: [1, 'y'], f: { k: -0.5 } }), 'CYPHER a=1 b="x" c=null d=true e=[1,"y"] f={k:-0.5} ');
  });
  it('escapes quotes and backslashes in strings', () => {
    assert.equal(cypherParamsPrefix({ s: 'a"b\\c' }), 'CYPHER s="a\\"b\\\\c" ');
  });
  it('refuses parameter names that are not identifiers', () => {
    assert.throws(() => cypherParamsPrefix({ 'x=1 MATCH (n) DETACH DELETE n //': 1 }), { code: 'PARAMETERS_INVALID' });
    assert.throws(() => cypherParamsPrefix({ '1a': 1 }), { code: 'PARAMETERS_INVALID' });
    assert.throws(() => cypherParamsPrefix({ '': 1 }), { code: 'PARAMETERS_INVALID' });
  });
  it('refuses map keys that are not identifiers', () => {
    assert.throws(() => cypherParamsPrefix({ m: { 'k}) DETACH DELETE n //': 1 } }), { code: 'PARAMETERS_INVALID' });
  });
  it('refuses non-finite numbers and deep nesting', () => {
    assert.throws(() => cypherParamsPrefix({ n: Number.NaN }), { code: 'PARAMETERS_INVALID' });
    let deep: unknown = 1;
    for (let i = 0; i < 40; i++) deep = [deep];
    assert.throws(() => cypherParamsPrefix({ d: deep }), { code: 'PARAMETERS_INVALID' });
  });
});
