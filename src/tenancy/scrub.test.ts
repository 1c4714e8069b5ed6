import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { scrubForTenant } from './scrub.js';

describe('scrubForTenant', () => {
  it('removes the caller\'s own prefix', () => {
    assert.equal(scrubForTenant('error on acme_users near x', 'acme'), 'error on users near x');
  });
  it('hides another tenant\'s key and gateway state', () => {
    const out = scrubForTenant('saw widgets_secret and gw:revoked:abc', 'acme');
    assert.ok(!out.includes('widgets_secret'));
    assert.ok(!out.includes('gw:'));
  });
  it('leaves the caller\'s own words alone', () => {
    assert.equal(scrubForTenant("'first_name' not defined", 'acme', { callerInput: 'RETURN first_name' }), "'first_name' not defined");
  });
  it("trusts the gateway's own wording but still strips prefixes and state", () => {
    assert.equal(scrubForTenant('falkordb_list_graphs lists acme_x, not gw:y', 'acme', { untrusted: false }), 'falkordb_list_graphs lists x, not [internal]');
  });
  it('handles tenants whose prefix is encoded', () => {
    assert.equal(scrubForTenant('on a%5Fb_c', 'a_b'), 'on c');
    assert.equal(scrubForTenant('on a%5Fb_c', 'a'), 'on [hidden]');
  });
});
