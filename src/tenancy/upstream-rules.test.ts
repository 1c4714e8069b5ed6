import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { matchUpstreamRule, parseUpstreamRules, upstreamDeviceName, upstreamUser } from './upstream-rules.js';

describe('OAUTH_UPSTREAM_TENANTS rules', () => {
  it('parses domain, group and claim rules in order, normalised', () => {
    const rules = parseUpstreamRules(' group:graph-admins -> acme read write admin ;\nDomain:ACME.com->acme read read ; claim:org_id=org_7 -> beta read');
    assert.deepEqual(
      rules.map((r) => r.text),
      ['group:graph-admins -> acme read write admin', 'domain:acme.com -> acme read', 'claim:org_id=org_7 -> beta read'],
    );
    assert.deepEqual(rules[2]?.match, { kind: 'claim', claim: 'org_id', value: 'org_7' });
  });

  it('says which rule is wrong and how', () => {
    const cases: Array<[string, RegExp]> = [
      ['', /at least one rule/],
      ['domain:acme.com acme read', /rule 1 .*needs "->"/],
      ['domain:acme.com -> acme read; email:x -> acme read', /rule 2: .*must start with domain:, group: or claim:/],
      ['domain:not a domain -> acme read', /rule 1: "not a domain" is not a domain name/],
      ['claim:org_id -> acme read', /rule 1: .*claim:NAME=VALUE/],
      ['group:x -> acme', /rule 1 .*must list the scopes/],
      ['group:x -> acme read delete', /rule 1: "delete" is not a scope/],
      ['group:x ->  ', /rule 1 .*must name a tenant id/],
    ];
    for (const [text, expected] of cases) assert.throws(() => parseUpstreamRules(text), expected, text);
  });

  const rules = parseUpstreamRules('group:graph-admins -> admins read write admin; domain:acme.com -> acme read write; claim:org_id=org_7 -> beta read; claim:tier=2 -> gold read');

  it('matches the first rule that fits: groups as a list or one string, claims as a value or in a list', () => {
    const tenantOf = (claims: Record<string, unknown>, groups = 'groups') => matchUpstreamRule(rules, { sub: 's', ...claims }, groups)?.tenant;
    assert.equal(tenantOf({ email: 'a@acme.com', email_verified: true, groups: ['graph-admins'] }), 'admins');
    assert.equal(tenantOf({ email: 'a@ACME.COM', email_verified: true, groups: ['staff'] }), 'acme');
    assert.equal(tenantOf({ roles: 'graph-admins' }, 'roles'), 'admins');
    assert.equal(tenantOf({ org_id: ['org_1', 'org_7'] }), 'beta');
    assert.equal(tenantOf({ tier: 2 }), 'gold');
  });

  it('takes an email domain only when the provider verified it, and never a look-alike domain', () => {
    const tenantOf = (claims: Record<string, unknown>) => matchUpstreamRule(rules, { sub: 's', ...claims }, 'groups')?.tenant;
    assert.equal(tenantOf({ email: 'a@acme.com' }), undefined);
    assert.equal(tenantOf({ email: 'a@acme.com', email_verified: 'true' }), undefined);
    assert.equal(tenantOf({ email: 'a@evil-acme.com', email_verified: true }), undefined);
    assert.equal(tenantOf({ email: 'a@acme.com.evil.test', email_verified: true }), undefined);
    assert.equal(tenantOf({ email: 'acme.com', email_verified: true }), undefined);
    // A claim rule reads only the claim it names, not one inherited from Object.prototype.
    assert.equal(matchUpstreamRule(parseUpstreamRules('claim:constructor=x -> t read'), { sub: 's' }, 'groups'), undefined);
  });

  it('names the device after the client and who signed in, within what a device name may hold', () => {
    assert.equal(upstreamDeviceName({ sub: 's', email: 'Alice@Acme.com', email_verified: true }, 'Claude'), 'claude-alice@acme.com');
    assert.equal(upstreamDeviceName({ sub: 's', email: 'alice@acme.com', preferred_username: 'al' }, 'ChatGPT'), 'chatgpt-al');
    assert.equal(upstreamDeviceName({ sub: '00u1 /x' }, '\u202e Visual Studio Code!'), 'visual-studio-code-00u1-x');
    const long = upstreamDeviceName({ sub: 'x'.repeat(200) }, 'c');
    assert.ok(long.length <= 64 && /^[A-Za-z0-9][A-Za-z0-9_.@-]*$/.test(long), long);
    assert.equal(upstreamDeviceName({ sub: '' }, ''), 'app-user');
    assert.equal(upstreamUser({ sub: 'u1', email: 'x@y.z' }), 'sub:u1');
    assert.equal(upstreamUser({ sub: 'u1', email: 'x@y.z', email_verified: true }), 'x@y.z');
  });
});
