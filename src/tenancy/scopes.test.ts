import assert from 'node:assert/strict';
import { test } from 'node:test';
import { expandScopes, hasScope, SCOPES, type Scope } from './scopes.js';

/** Every list of distinct scopes, in every order. */
function scopeLists(): Scope[][] {
  const lists: Scope[][] = [[]];
  for (let size = 1; size <= SCOPES.length; size++) {
    const build = (prefix: Scope[]): void => {
      if (prefix.length === size) return void lists.push(prefix);
      for (const scope of SCOPES) if (!prefix.includes(scope)) build([...prefix, scope]);
    };
    build([]);
  }
  return lists;
}

test('hasScope holds exactly for the scopes in the expansion (admin ⇒ write ⇒ read), expanded or not', () => {
  const lists = scopeLists();
  assert.equal(lists.length, 16);
  for (const scopes of lists) {
    for (const scope of SCOPES) {
      const expected = expandScopes(scopes).includes(scope);
      assert.equal(hasScope({ scopes }, scope), expected, `${JSON.stringify(scopes)} → ${scope}`);
      assert.equal(hasScope({ scopes: expandScopes(scopes) }, scope), expected);
    }
  }
});

test('hasScope: no scope grants nothing; admin alone grants all three', () => {
  for (const scope of SCOPES) assert.equal(hasScope({ scopes: [] }, scope), false);
  for (const scope of SCOPES) assert.equal(hasScope({ scopes: ['admin'] }, scope), true);
  assert.equal(hasScope({ scopes: ['read'] }, 'write'), false);
  assert.equal(hasScope({ scopes: ['write'] }, 'admin'), false);
});
