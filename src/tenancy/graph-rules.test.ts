import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { GatewayError } from '../errors.js';
import { isValidGraphName } from './graph-name.js';
import {
  describeGraphRules,
  grantGraphPatterns,
  graphClaimCovers,
  graphPatternMatches,
  graphPatternsFromClaims,
  graphRightRefusal,
  isValidGraphPattern,
  matchesAnyPattern,
  mayUseGraph,
  parseGraphPatterns,
  revokeGraphPatterns,
  validateGraphRules,
  type GraphRules,
} from './graph-rules.js';
import { SCOPES, expandScopes, type Scope } from './scopes.js';

/** The reference meaning of a pattern: a regular expression with every character literal except `*`. */
function reference(pattern: string, name: string): boolean {
  const source = pattern.split('*').map((part) => part.replace(/[.\-\\^$+?()[\]{}|]/g, '\\$&')).join('.*');
  return new RegExp(`^${source}$`, 's').test(name);
}

const nameArb = fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,30}$/);
/** Small alphabets, so that patterns and names actually meet. */
const smallName = fc.string({ minLength: 1, maxLength: 12, unit: fc.constantFrom('a', 'b', '_', '.', 'A') }).filter(isValidGraphName);
const smallPattern = fc.string({ minLength: 1, maxLength: 8, unit: fc.constantFrom('a', 'b', '_', '.', 'A', '*', '*') }).filter(isValidGraphPattern);

function refusedWith(fn: () => unknown, code: string): GatewayError {
  try {
    fn();
  } catch (error) {
    assert.ok(error instanceof GatewayError, String(error));
    assert.equal(error.code, code, error.message);
    return error;
  }
  assert.fail('expected a refusal');
}

describe('graph pattern matching', () => {
  it('agrees with the reference meaning (every character literal, `*` any run) on random patterns and names', () => {
    fc.assert(
      fc.property(smallPattern, smallName, (pattern, name) => {
        assert.equal(graphPatternMatches(pattern, name), reference(pattern, name), `${pattern} vs ${name}`);
      }),
      { numRuns: 20_000 },
    );
  });

  it('matches every graph name with `*`', () => {
    fc.assert(fc.property(nameArb, (name) => graphPatternMatches('*', name)));
    assert.equal(graphPatternMatches('*', 'x'.repeat(128)), true);
  });

  it('matches a pattern without `*` against that exact name only', () => {
    fc.assert(
      fc.property(nameArb, nameArb, (pattern, name) => {
        assert.equal(graphPatternMatches(pattern, name), pattern === name);
      }),
    );
    assert.equal(graphPatternMatches('sales', 'sales'), true);
    assert.equal(graphPatternMatches('sales', 'sales_q1'), false);
    assert.equal(graphPatternMatches('sales', 'presales'), false);
  });

  it('treats a prefix that contains `_` literally: `sales_*` is exactly "starts with sales_"', () => {
    fc.assert(
      fc.property(nameArb, nameArb, (prefix, name) => {
        assert.equal(graphPatternMatches(`${prefix}*`, name), name.startsWith(prefix));
      }),
    );
    assert.equal(graphPatternMatches('sales_*', 'sales_'), true, '`*` matches the empty run');
    assert.equal(graphPatternMatches('sales_*', 'sales_eu_2024'), true);
    assert.equal(graphPatternMatches('sales_*', 'sales'), false);
    assert.equal(graphPatternMatches('sales_*', 'salesX'), false);
    assert.equal(graphPatternMatches('sales_*', 'sales-q1'), false);
    assert.equal(graphPatternMatches('a_b_*', 'a_b_c'), true);
    assert.equal(graphPatternMatches('a_b_*', 'a_bc'), false);
  });

  it('lets `*` match runs that contain `_`, `.` and `-`', () => {
    assert.equal(graphPatternMatches('r*1', 'reports_2024.q-1'), true);
    assert.equal(graphPatternMatches('*_archive', 'sales_eu_archive'), true);
    assert.equal(graphPatternMatches('*_archive', 'archive'), false);
    assert.equal(graphPatternMatches('a*b*c', 'a_b_c'), true);
    assert.equal(graphPatternMatches('a*b*c', 'acb'), false);
    assert.equal(graphPatternMatches('**', 'x'), true);
  });

  it('is case-sensitive, like graph names', () => {
    assert.equal(graphPatternMatches('Sales_*', 'sales_q1'), false);
    assert.equal(graphPatternMatches('sales_*', 'Sales_q1'), false);
    assert.equal(graphPatternMatches('SALES', 'sales'), false);
    assert.equal(graphPatternMatches('Sales_*', 'Sales_q1'), true);
  });

  it('answers long adversarial patterns correctly', () => {
    const name = 'a'.repeat(128);
    assert.equal(graphPatternMatches(`${'a*'.repeat(60)}b`, name), false);
    assert.equal(graphPatternMatches(`${'a*'.repeat(60)}a`, name), true);
  });

  it('matches nothing with an empty list, and anything any listed pattern matches', () => {
    fc.assert(fc.property(nameArb, (name) => !matchesAnyPattern([], name)));
    assert.equal(matchesAnyPattern(['sales_*', 'reports_q1'], 'reports_q1'), true);
    assert.equal(matchesAnyPattern(['sales_*', 'reports_q1'], 'reports_q2'), false);
  });
});

describe('graph pattern syntax', () => {
  it('accepts graph-name characters plus `*`', () => {
    for (const ok of ['*', 'sales_*', '*_archive', 'a*b', 'reports_q1', 'x.y-z', '0*', 'x'.repeat(128)]) assert.ok(isValidGraphPattern(ok), ok);
  });

  it('refuses anything else, saying the rule', () => {
    for (const bad of ['', '_sales', '.x', '-x', 'sales?', 'sa les', 'a/b', 'sales%', 'é*', '[a]*', 'x'.repeat(129), 'a:b']) {
      assert.equal(isValidGraphPattern(bad), false, bad);
      const error = refusedWith(() => parseGraphPatterns([bad === '' ? ',' : bad]), 'REQUEST_INVALID');
      assert.match(error.message, bad === '' ? /at least one graph pattern/ : /`\*` stands for any run of characters/);
    }
  });

  it('reads repeated and comma-separated options, dropping duplicates', () => {
    assert.deepEqual(parseGraphPatterns(['sales_*,reports_*', ' reports_* ', 'x']), ['sales_*', 'reports_*', 'x']);
  });
});

describe('the token graphs claim', () => {
  it('is absent when the token has none: no narrowing', () => {
    assert.equal(graphPatternsFromClaims({ scope: 'read' }), undefined);
  });

  it('reads a list, or a space- or comma-separated string', () => {
    assert.deepEqual(graphPatternsFromClaims({ graphs: ['reports_*', 'x'] }), ['reports_*', 'x']);
    assert.deepEqual(graphPatternsFromClaims({ graphs: 'reports_* x,y' }), ['reports_*', 'x', 'y']);
  });

  it('keeps an empty list as "no graph", never as "every graph"', () => {
    assert.deepEqual(graphPatternsFromClaims({ graphs: [] }), []);
    assert.equal(mayUseGraph({ scopes: expandScopes(['admin']), graphs: [] }, undefined, 'read', 'anything'), false);
  });

  it('refuses the token when the claim cannot be read, rather than ignoring it', () => {
    for (const graphs of [42, { a: 1 }, ['ok', 7], ['bad pattern'], ['_x'], null, Array(65).fill('x')]) {
      refusedWith(() => graphPatternsFromClaims({ graphs }), 'TOKEN_CLAIM_INVALID');
    }
  });
});

describe('comparing graphs claims', () => {
  it('lets an unlimited token cover anything, and a limited one only what it lists', () => {
    assert.equal(graphClaimCovers(undefined, undefined), true);
    assert.equal(graphClaimCovers(undefined, ['a_*']), true);
    assert.equal(graphClaimCovers(['a_*'], undefined), false);
    assert.equal(graphClaimCovers(['a_*', 'b'], ['a_*']), true);
    assert.equal(graphClaimCovers(['a_*'], ['a_*', 'b']), false);
    assert.equal(graphClaimCovers([], []), true);
    assert.equal(graphClaimCovers(['*'], ['a_*']), false, 'conservative: patterns are compared as listed');
  });
});

describe('tenant graph rules', () => {
  it('grants by creating or extending a rule', () => {
    const first = grantGraphPatterns(undefined, 'write', ['sales_*']);
    assert.deepEqual(first, { write: ['sales_*'] });
    assert.deepEqual(grantGraphPatterns(first, 'write', ['sales_*', 'crm']), { write: ['sales_*', 'crm'] });
  });

  it('revokes only what is listed, and the last revoke leaves no graph, not every graph', () => {
    const rules = revokeGraphPatterns({ write: ['sales_*'] }, 'write', ['sales_*']);
    assert.deepEqual(rules, { write: [] });
    assert.equal(mayUseGraph({ scopes: expandScopes(['admin']) }, rules, 'write', 'sales_q1'), false);
    assert.deepEqual(revokeGraphPatterns(undefined, 'admin', ['*']), { admin: [] }, 'revoking * from "no rule" allows none');
    const error = refusedWith(() => revokeGraphPatterns({ write: ['sales_*'] }, 'write', ['crm']), 'REQUEST_INVALID');
    assert.match(error.message, /lists: sales_\*/);
    refusedWith(() => revokeGraphPatterns(undefined, 'write', ['sales_*']), 'REQUEST_INVALID');
  });

  it('validates stored rules: known scopes, lists of valid patterns', () => {
    assert.deepEqual(validateGraphRules({ read: ['*'], write: ['sales_*'], admin: [] }), { read: ['*'], write: ['sales_*'], admin: [] });
    refusedWith(() => validateGraphRules({ delete: ['*'] }), 'REQUEST_INVALID');
    refusedWith(() => validateGraphRules({ read: '*' }), 'REQUEST_INVALID');
    refusedWith(() => validateGraphRules({ read: ['bad pattern'] }), 'REQUEST_INVALID');
    refusedWith(() => validateGraphRules([]), 'REQUEST_INVALID');
  });

  it('describes every scope, with and without a rule', () => {
    assert.deepEqual(describeGraphRules({ read: ['*'], write: ['sales_*', 'crm'], admin: [] }), [['read', '*'], ['write', 'sales_*, crm'], ['admin', 'none']]);
    assert.deepEqual(describeGraphRules(undefined), [['read', 'every graph'], ['write', 'every graph'], ['admin', 'every graph']]);
  });
});

describe('the effective right on a graph', () => {
  const scopesArb = fc.subarray([...SCOPES]).map((s) => expandScopes(s));
  const patternsArb = fc.option(fc.array(smallPattern, { maxLength: 3 }), { nil: undefined });
  const rulesArb = fc.record({ read: patternsArb, write: patternsArb, admin: patternsArb }).map((r) =>
    Object.fromEntries(Object.entries(r).filter(([, v]) => v !== undefined)) as GraphRules,
  );

  it('is the token scope AND the tenant rule (if any) AND the token claim (if any)', () => {
    fc.assert(
      fc.property(scopesArb, patternsArb, rulesArb, fc.constantFrom<Scope>(...SCOPES), smallName, (scopes, graphs, rules, scope, graph) => {
        const holder = { scopes, ...(graphs === undefined ? {} : { graphs }) };
        const tenantOk = rules[scope] === undefined || rules[scope].some((p) => reference(p, graph));
        const tokenOk = graphs === undefined || graphs.some((p) => reference(p, graph));
        assert.equal(mayUseGraph(holder, rules, scope, graph), scopes.includes(scope) && tenantOk && tokenOk);
      }),
      { numRuns: 5000 },
    );
  });

  it('is refused by the tenant rule read *, write sales_*, admin none as the rule says', () => {
    const rules: GraphRules = { read: ['*'], write: ['sales_*'], admin: [] };
    const admin = { scopes: expandScopes(['admin']) };
    assert.equal(mayUseGraph(admin, rules, 'read', 'reports'), true);
    assert.equal(mayUseGraph(admin, rules, 'write', 'sales_eu'), true);
    assert.equal(mayUseGraph(admin, rules, 'write', 'reports'), false);
    assert.equal(mayUseGraph(admin, rules, 'admin', 'sales_eu'), false);
  });

  it('names the refusing rule, and never the tenant patterns', () => {
    const holder = { scopes: expandScopes(['write']), graphs: ['reports_*'] };
    const rules: GraphRules = { write: ['secret_merger_2025'] };
    const byTenant = graphRightRefusal(holder, rules, 'write', 'reports_q1', 'Writing to a graph');
    assert.equal(byTenant?.code, 'GRAPH_FORBIDDEN');
    assert.equal(byTenant?.details['rule'], 'tenant');
    assert.equal(byTenant?.details['scope'], 'write');
    assert.match(byTenant?.message ?? '', /tenant's graph rule for "write"/);
    assert.doesNotMatch(byTenant?.message ?? '', /secret_merger/);

    const byToken = graphRightRefusal(holder, undefined, 'read', 'sales', 'Querying a graph');
    assert.equal(byToken?.details['rule'], 'token');
    assert.match(byToken?.message ?? '', /"graphs" claim limits it to graphs matching: reports_\*/);

    const byBoth = graphRightRefusal(holder, rules, 'write', 'sales', 'Writing to a graph');
    assert.equal(byBoth?.details['rule'], 'tenant+token');
    assert.doesNotMatch(byBoth?.message ?? '', /secret_merger/);
    assert.equal(graphRightRefusal(holder, { write: ['reports_*'] }, 'write', 'reports_q1'), undefined);
  });
});
