import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { encodedTenantId, tenantGraphKey } from '../tenancy/keys.js';
import { stateKeys } from './keys.js';

/** The part of a key a Redis/Valkey Cluster hashes: the first non-empty `{…}`, else the whole key. */
function hashTag(key: string): string {
  const open = key.indexOf('{');
  const close = open < 0 ? -1 : key.indexOf('}', open + 1);
  return close > open + 1 ? key.slice(open + 1, close) : key;
}

const TENANTS = ['acme', 'a_b', 'a{b}', '{x}', '}', 'gw:x', 'é', 'a b'];

describe('state key hash tags', () => {
  it("gives every key about a tenant the tenant's tag, so they share a cluster slot", () => {
    for (const tenant of TENANTS) {
      const keys = [
        stateKeys.tenant(tenant),
        stateKeys.tenantCutoff(tenant),
        stateKeys.deviceCutoff(tenant, 'lap{top}'),
        stateKeys.tenantTokens(tenant),
        stateKeys.tenantFamilies(tenant),
        stateKeys.cacheGraphVersion(tenant, 'users'),
        stateKeys.cacheGraphListVersion(tenant),
      ];
      for (const key of keys) assert.equal(hashTag(key), encodedTenantId(tenant), key);
    }
  });

  it("gives a token's, a refresh token's and a family's keys one tag each", () => {
    for (const id of ['3f2a', 'a{b}c', '}{', '550e8400-e29b-41d4-a716-446655440000']) {
      assert.equal(new Set([stateKeys.token(id), stateKeys.tokenLastUsed(id), stateKeys.revokedJti(id)].map(hashTag)).size, 1, id);
      assert.equal(hashTag(stateKeys.refresh(id)), hashTag(stateKeys.refreshUsed(id)));
      assert.equal(hashTag(stateKeys.enrolment(id)), hashTag(stateKeys.enrolmentUsed(id)));
      assert.equal(new Set([stateKeys.family(id), stateKeys.familyTokens(id), stateKeys.familyRevoked(id)].map(hashTag)).size, 1, id);
    }
  });

  it('keeps braces a tenant or token puts in its id out of the tag', () => {
    assert.equal(hashTag(stateKeys.tenant('{x}')), '%7Bx%7D');
    assert.equal(hashTag(stateKeys.token('a}b')), 'a%7Db');
  });

  it('leaves graph keys without a tag, so one tenant\'s graphs spread over the shards', () => {
    for (const tenant of TENANTS) assert.ok(!/[{}]/.test(tenantGraphKey(tenant, 'users')), tenant);
  });
});
