import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { GATEWAY_STATE_PREFIX, keyPrefixGlob, parseTenantGraphKey, tenantGraphKey, tenantGraphsAmong, tenantKeyPattern, tenantKeyPrefix } from './keys.js';
import { isValidGraphName } from './graph-name.js';

const AWKWARD_TENANTS = ['a', 'a_b', 'a_', '_a', '%', '%5F', 'a%5Fb', '.', '..', '-', 'acme.corp', 'gw:x', 'gw', 'é', '租户', '😀', ' ', 'a b', 'x'.repeat(256), 'A', 'a/b', '\u0000', 'a:b'];
const AWKWARD_GRAPHS = ['b', 'b_c', 'c', '0', 'x'.repeat(128), 'a.b-c_d', 'Users'];

const tenantArb = fc.oneof(
  fc.constantFrom(...AWKWARD_TENANTS),
  fc.string({ minLength: 1, maxLength: 40, unit: 'grapheme' }),
  fc.string({ minLength: 1, maxLength: 12, unit: fc.constantFrom('a', '_', '%', '5', 'F', '.', '-', ':', 'g', 'w') }),
);
const graphArb = fc.oneof(fc.constantFrom(...AWKWARD_GRAPHS), fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,20}$/));

describe('tenant graph keys', () => {
  it('builds the contract examples', () => {
    assert.equal(tenantGraphKey('acme', 'users'), 'acme_users');
    assert.equal(tenantKeyPrefix('a_b'), 'a%5Fb_');
    assert.equal(tenantGraphKey('a_b', 'c'), 'a%5Fb_c');
    assert.equal(tenantGraphKey('a', 'b_c'), 'a_b_c');
  });

  it('keeps tenant a_b graph c and tenant a graph b_c apart', () => {
    assert.notEqual(tenantGraphKey('a_b', 'c'), tenantGraphKey('a', 'b_c'));
  });

  it('is one-to-one over awkward tenant ids and graph names', () => {
    fc.assert(
      fc.property(tenantArb, graphArb, tenantArb, graphArb, (t1, g1, t2, g2) => {
        fc.pre(isValidGraphName(g1) && isValidGraphName(g2) && t1.isWellFormed() && t2.isWellFormed());
        fc.pre(t1.length <= 256 && t2.length <= 256);
        const same = t1 === t2 && g1 === g2;
        assert.equal(tenantGraphKey(t1, g1) === tenantGraphKey(t2, g2), same);
      }),
      { numRuns: 5000 },
    );
  });

  it('parses every key back to the tenant and graph it was built from', () => {
    fc.assert(
      fc.property(tenantArb, graphArb, (tenant, graph) => {
        fc.pre(isValidGraphName(graph) && tenant.isWellFormed() && tenant.length <= 256);
        assert.deepEqual(parseTenantGraphKey(tenantGraphKey(tenant, graph)), { tenant, graph });
      }),
      { numRuns: 3000 },
    );
  });

  it('never builds a key inside the gateway state prefix', () => {
    fc.assert(
      fc.property(tenantArb, graphArb, (tenant, graph) => {
        fc.pre(isValidGraphName(graph) && tenant.isWellFormed() && tenant.length <= 256);
        assert.ok(!tenantGraphKey(tenant, graph).startsWith(GATEWAY_STATE_PREFIX));
      }),
      { numRuns: 3000 },
    );
    assert.equal(tenantGraphKey('gw:x', 'g'), 'gw%3Ax_g');
  });

  it('refuses empty, over-long and ill-formed tenant ids', () => {
    assert.throws(() => tenantKeyPrefix(''), { code: 'TENANT_ID_INVALID' });
    assert.throws(() => tenantKeyPrefix('x'.repeat(257)), { code: 'TENANT_ID_INVALID' });
    assert.throws(() => tenantKeyPrefix('\uD800'), { code: 'TENANT_ID_INVALID' });
  });

  it('refuses graph names outside the rule, saying the rule', () => {
    for (const bad of ['', '_x', '-x', '.x', 'a b', 'a/b', 'a:b', 'x'.repeat(129), 'é', 'a*']) {
      assert.throws(() => tenantGraphKey('acme', bad), (e: Error & { code?: string }) => e.code === 'GRAPH_NAME_INVALID' && /1 to 128 characters/.test(e.message));
    }
  });

  it('does not parse non-canonical or foreign keys', () => {
    assert.equal(parseTenantGraphKey('gw:revoked'), undefined);
    assert.equal(parseTenantGraphKey('nounderscore'), undefined);
    assert.equal(parseTenantGraphKey('a%5fb_c'), undefined, 'lower-case hex is not canonical');
    assert.equal(parseTenantGraphKey('%61_c'), undefined, 'an encoded safe character is not canonical');
    assert.equal(parseTenantGraphKey('_c'), undefined);
  });

  it('lists only one tenant\'s graphs, prefix removed', () => {
    const keys = ['acme_users', 'acme_b_c', 'a_b', 'acme%5Fx_y', 'widgets_users', 'gw:state', 'acme.corp_g'];
    assert.deepEqual(tenantGraphsAmong('acme', keys), ['b_c', 'users']);
    assert.deepEqual(tenantGraphsAmong('a', keys), ['b']);
    assert.deepEqual(tenantGraphsAmong('acme_x', keys), ['y']);
  });
});

/** Redis/Valkey glob matching (stringmatchlen) for the forms an ACL key pattern can hold: `\x`, `*`, `?`, `[...]`. */
function globMatches(pattern: string, key: string): boolean {
  let source = '';
  for (let i = 0; i < pattern.length; i++) {
    const ch = pattern[i]!;
    if (ch === '\\' && i + 1 < pattern.length) source += escapeRegex(pattern[++i]!);
    else if (ch === '*') source += '[\\s\\S]*';
    else if (ch === '?') source += '[\\s\\S]';
    else if (ch === '[') {
      const end = pattern.indexOf(']', i + 1);
      if (end === -1) source += '\\[';
      else {
        const body = pattern.slice(i + 1, end);
        source += body.startsWith('^') ? `[^${escapeClass(body.slice(1))}]` : `[${escapeClass(body)}]`;
        i = end;
      }
    } else source += escapeRegex(ch);
  }
  return new RegExp(`^${source}$`, 'u').test(key);
}

const escapeRegex = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const escapeClass = (text: string) => text.replace(/[\\\]^]/g, '\\$&');

describe('tenant key patterns (database ACL key rules)', () => {
  it('is the key prefix followed by a star', () => {
    assert.equal(tenantKeyPattern('acme'), 'acme_*');
    assert.equal(tenantKeyPattern('a_b'), 'a%5Fb_*');
    assert.equal(tenantKeyPattern('a*[?]\\'), 'a%2A%5B%3F%5D%5C_*');
  });

  it('holds no glob special character but its final star', () => {
    fc.assert(
      fc.property(tenantArb, (tenant) => {
        fc.pre(tenant.isWellFormed() && tenant.length <= 256);
        assert.match(tenantKeyPattern(tenant).slice(0, -1), /^[^*?[\]\\]+$/);
      }),
      { numRuns: 3000 },
    );
  });

  it("matches every key of its tenant and no key of another tenant or of the gateway's state", () => {
    fc.assert(
      fc.property(tenantArb, tenantArb, graphArb, (t1, t2, graph) => {
        fc.pre(isValidGraphName(graph) && t1.isWellFormed() && t2.isWellFormed() && t1.length <= 256 && t2.length <= 256);
        const pattern = tenantKeyPattern(t1);
        assert.equal(globMatches(pattern, tenantGraphKey(t2, graph)), t1 === t2);
        assert.equal(globMatches(pattern, `${GATEWAY_STATE_PREFIX}tenants`), false);
      }),
      { numRuns: 5000 },
    );
  });

  it('keeps tenant a from the keys of tenant a_b', () => {
    assert.equal(globMatches(tenantKeyPattern('a'), tenantGraphKey('a', 'b_c')), true);
    assert.equal(globMatches(tenantKeyPattern('a'), tenantGraphKey('a_b', 'c')), false);
    assert.equal(globMatches(tenantKeyPattern('a_b'), tenantGraphKey('a', 'b_c')), false);
  });

  it('escapes glob specials (checked with the matcher itself)', () => {
    assert.equal(globMatches('a\\*b*', 'a*bc'), true);
    assert.equal(globMatches('a\\*b*', 'axbc'), false);
    assert.equal(globMatches('a?c', 'abc'), true);
    assert.equal(globMatches('[ab]x', 'bx'), true);
  });

  it('turns any prefix into a glob of exactly the keys that start with it (SCAN MATCH, ACL key rules)', () => {
    const prefix = 'a*b?[c]\\_';
    assert.equal(keyPrefixGlob(prefix), 'a\\*b\\?\\[c\\]\\\\_*');
    assert.equal(globMatches(keyPrefixGlob(prefix), `${prefix}graph`), true);
    for (const other of ['axb?[c]\\_g', 'a*bx[c]\\_g', 'a*b?c\\_g', 'a*b?[c]_g']) assert.equal(globMatches(keyPrefixGlob(prefix), other), false, other);
  });
});
