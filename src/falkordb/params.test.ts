import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { assertParametersDepth, cypherParamsPrefix, MAX_PARAMETER_DEPTH } from './params.js';

describe('cypherParamsPrefix', () => {
  it('is empty without parameters', () => {
    assert.equal(cypherParamsPrefix(undefined), '');
    assert.equal(cypherParamsPrefix({}), '');
  });
  it('serialises scalars, lists and maps', () => {
    assert.equal(cypherParamsPrefix({ a: 1, b: 'x', c: null, d: true, e: [1, 'y'], f: { k: -0.5 } }), 'CYPHER a=1 b="x" c=null d=true e=[1,"y"] f={`k`:-0.5} ');
  });
  it('escapes quotes and backslashes in strings', () => {
    assert.equal(cypherParamsPrefix({ s: 'a"b\\c' }), 'CYPHER s="a\\"b\\\\c" ');
  });
  it('refuses parameter names that are not identifiers', () => {
    assert.throws(() => cypherParamsPrefix({ 'x=1 MATCH (n) DETACH DELETE n //': 1 }), { code: 'PARAMETERS_INVALID' });
    assert.throws(() => cypherParamsPrefix({ '1a': 1 }), { code: 'PARAMETERS_INVALID' });
    assert.throws(() => cypherParamsPrefix({ '': 1 }), { code: 'PARAMETERS_INVALID' });
  });
  it('writes every map key between backticks, whatever it holds', () => {
    assert.equal(
      cypherParamsPrefix({ m: { 'first-name': 1, '@id': 2, 'a b': 3, '': 4, 'k}) DETACH DELETE n //': 5, 'a"b': 6, 'ключ': { 'x.y': [7] } } }),
      'CYPHER m={`first-name`:1,`@id`:2,`a b`:3,``:4,`k}) DETACH DELETE n //`:5,`a"b`:6,`ключ`:{`x.y`:[7]}} ',
    );
  });
  it('refuses a string value holding a NUL or a lone surrogate, and never shows the value', () => {
    assert.throws(() => cypherParamsPrefix({ v: 'secret\0' }), (e: Error) => /NUL/.test(e.message) && !/secret/.test(e.message));
    assert.throws(() => cypherParamsPrefix({ v: [{ k: 'secret\udc00' }] }), (e: Error) => /surrogate/.test(e.message) && !/secret/.test(e.message));
    assert.equal(cypherParamsPrefix({ v: '\ud83d\ude00' }), 'CYPHER v="\ud83d\ude00" ');
  });

  it('refuses a map key holding a backtick or NUL, which FalkorDB cannot read', () => {
    assert.throws(() => cypherParamsPrefix({ m: { 'a`b': 1 } }), { code: 'PARAMETERS_INVALID', message: /backtick/ });
    assert.throws(() => cypherParamsPrefix({ m: { 'a`}) MATCH (n) DETACH DELETE n //': 1 } }), { code: 'PARAMETERS_INVALID' });
    assert.throws(() => cypherParamsPrefix({ m: [{ 'a\0b': 1 }] }), { code: 'PARAMETERS_INVALID', message: /NUL/ });
  });
  it('refuses a map key with a lone surrogate, which would reach the database as U+FFFD', () => {
    assert.throws(() => cypherParamsPrefix({ m: { 'a\ud800b': 1 } }), { code: 'PARAMETERS_INVALID', message: /surrogate/ });
    assert.equal(cypherParamsPrefix({ m: { '😀': 1 } }), 'CYPHER m={`😀`:1} ');
  });
  it('refuses non-finite numbers and deep nesting', () => {
    assert.throws(() => cypherParamsPrefix({ n: Number.NaN }), { code: 'PARAMETERS_INVALID' });
    let deep: unknown = 1;
    for (let i = 0; i < 40; i++) deep = [deep];
    assert.throws(() => cypherParamsPrefix({ d: deep }), { code: 'PARAMETERS_INVALID' });
  });
});

describe('assertParametersDepth', () => {
  const nested = (levels: number): unknown => {
    let value: unknown = 1;
    for (let i = 0; i < levels; i++) value = i % 2 === 0 ? [value] : { k: value };
    return value;
  };
  it(`accepts ${MAX_PARAMETER_DEPTH} levels of lists and maps, and refuses one more`, () => {
    assert.doesNotThrow(() => assertParametersDepth({ p: nested(MAX_PARAMETER_DEPTH) }));
    assert.doesNotThrow(() => cypherParamsPrefix({ p: nested(MAX_PARAMETER_DEPTH) }));
    assert.throws(() => assertParametersDepth({ p: nested(MAX_PARAMETER_DEPTH + 1) }), { code: 'PARAMETERS_INVALID', message: new RegExp(`deeper than ${MAX_PARAMETER_DEPTH} levels`) });
    assert.throws(() => cypherParamsPrefix({ p: nested(MAX_PARAMETER_DEPTH + 1) }), { code: 'PARAMETERS_INVALID' });
  });
  it('refuses a value nested 500,000 levels deep without running out of stack', () => {
    const deep = JSON.parse(`${'['.repeat(500_000)}${']'.repeat(500_000)}`) as unknown;
    assert.throws(() => assertParametersDepth({ deep }), { code: 'PARAMETERS_INVALID' });
  });
});
