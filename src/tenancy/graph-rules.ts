// Graph-level permissions: which of a tenant's graphs a scope may be used on.
// A tenant's registry entry may limit each scope to graph-name patterns, and a
// token may narrow further with a `graphs` claim; a right on a graph needs all three.

import { GatewayError } from '../errors.js';
import { SCOPES, hasScope, isScope, type Scope } from './scopes.js';

/**
 * Per scope, the patterns of the graphs that scope may be used on. A scope left
 * out has no rule (every graph); a scope with an empty list may be used on none.
 */
export type GraphRules = Partial<Record<Scope, readonly string[] | undefined>>;

/** Which rule refused a right: the tenant's registry entry, or the token's `graphs` claim. */
export type GraphRuleSource = 'tenant' | 'token';

/** The claim a token narrows its graphs with. */
export const GRAPHS_CLAIM = 'graphs';

export const GRAPH_PATTERN_RULE =
  'a graph name in which `*` stands for any run of characters (none included): 1 to 128 characters of letters, digits, `_`, `.`, `-` and `*`, starting with a letter, digit or `*`; case-sensitive, e.g. sales_* or reports_q1';

const GRAPH_PATTERN = /^[A-Za-z0-9*][A-Za-z0-9_.*-]{0,127}$/;

/** Most patterns one rule or one token may hold; bounds the work of every check. */
export const MAX_GRAPH_PATTERNS = 64;

export function isValidGraphPattern(value: unknown): value is string {
  return typeof value === 'string' && GRAPH_PATTERN.test(value);
}

/** Returns the pattern unchanged, or throws REQUEST_INVALID stating the rule. */
export function validateGraphPattern(value: unknown, label = 'Graph pattern'): string {
  if (!isValidGraphPattern(value)) {
    const shown = typeof value === 'string' ? JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value) : typeof value;
    throw new GatewayError('REQUEST_INVALID', `${label} ${shown} is not allowed: use ${GRAPH_PATTERN_RULE}.`);
  }
  return value;
}

/**
 * Whether `name` matches `pattern`: every character must match itself exactly,
 * except `*`, which matches any run of characters, including none and `_`.
 * Greedy matching that only ever returns to the last `*`: at most
 * pattern × name steps, so no pattern can make a check slow.
 */
export function graphPatternMatches(pattern: string, name: string): boolean {
  let p = 0;
  let n = 0;
  let star = -1;
  let resume = 0;
  while (n < name.length) {
    if (p < pattern.length && pattern[p] !== '*' && pattern[p] === name[n]) {
      p += 1;
      n += 1;
    } else if (p < pattern.length && pattern[p] === '*') {
      star = p;
      resume = n;
      p += 1;
    } else if (star !== -1) {
      p = star + 1;
      resume += 1;
      n = resume;
    } else {
      return false;
    }
  }
  while (p < pattern.length && pattern[p] === '*') p += 1;
  return p === pattern.length;
}

/** Whether `name` matches any of `patterns`; an empty list matches nothing. */
export function matchesAnyPattern(patterns: readonly string[], name: string): boolean {
  return patterns.some((pattern) => graphPatternMatches(pattern, name));
}

/**
 * Reads a list of patterns typed by a person: repeated options and
 * comma-separated lists (`sales_*,reports_*`), validated, duplicates dropped.
 */
export function parseGraphPatterns(inputs: readonly string[], label = '--graphs'): readonly string[] {
  const list = inputs.flatMap((input) => input.split(',')).map((p) => p.trim()).filter((p) => p !== '');
  if (list.length === 0) {
    throw new GatewayError('REQUEST_INVALID', `${label} needs at least one graph pattern, e.g. ${label} 'sales_*'.`);
  }
  const unique = [...new Set(list.map((p) => validateGraphPattern(p, `${label}:`)))];
  if (unique.length > MAX_GRAPH_PATTERNS) {
    throw new GatewayError('REQUEST_INVALID', `${label} lists ${unique.length} patterns; at most ${MAX_GRAPH_PATTERNS} are allowed. Use a wider pattern (e.g. sales_*) instead of many names.`);
  }
  return Object.freeze(unique);
}

/**
 * The patterns of a verified token's `graphs` claim: undefined when the claim
 * is absent (no narrowing). A claim present but unreadable refuses the token:
 * ignoring a restriction would widen what the token may do.
 */
export function graphPatternsFromClaims(claims: Readonly<Record<string, unknown>>): readonly string[] | undefined {
  const value = claims[GRAPHS_CLAIM];
  if (value === undefined) return undefined;
  const list = typeof value === 'string' ? value.split(/[\s,]+/).filter((p) => p !== '') : value;
  if (!Array.isArray(list) || list.length > MAX_GRAPH_PATTERNS || !list.every(isValidGraphPattern)) {
    throw new GatewayError(
      'TOKEN_CLAIM_INVALID',
      `The token's "${GRAPHS_CLAIM}" claim must be a list of at most ${MAX_GRAPH_PATTERNS} graph patterns (${GRAPH_PATTERN_RULE}). Get a new token.`,
      { claim: GRAPHS_CLAIM },
    );
  }
  return Object.freeze([...new Set(list as string[])]);
}

/** A registry entry's rules, checked: only known scopes, each a list of valid patterns. */
export function validateGraphRules(value: unknown): GraphRules {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new GatewayError('REQUEST_INVALID', `Graph rules are an object of scope → patterns, e.g. {"read": ["*"], "write": ["sales_*"], "admin": []}.`);
  }
  const rules: GraphRules = {};
  for (const [scope, patterns] of Object.entries(value)) {
    if (!isScope(scope)) throw new GatewayError('REQUEST_INVALID', `Graph rules name an unknown scope ${JSON.stringify(scope.slice(0, 40))}; scopes are: ${SCOPES.join(', ')}.`);
    if (!Array.isArray(patterns)) throw new GatewayError('REQUEST_INVALID', `The "${scope}" graph rule must be a list of patterns.`);
    rules[scope] = Object.freeze(patterns.map((p) => validateGraphPattern(p, `The "${scope}" graph rule's pattern`)));
  }
  return rules;
}

/** Adds patterns to a scope's rule. A scope without a rule gets one: from then on, only its patterns are allowed. */
export function grantGraphPatterns(rules: GraphRules | undefined, scope: Scope, patterns: readonly string[]): GraphRules {
  const next = [...new Set([...(rules?.[scope] ?? []), ...patterns])];
  if (next.length > MAX_GRAPH_PATTERNS) {
    throw new GatewayError('REQUEST_INVALID', `The "${scope}" graph rule would list ${next.length} patterns; at most ${MAX_GRAPH_PATTERNS} are allowed. Use a wider pattern (e.g. sales_*) instead of many names.`);
  }
  return { ...rules, [scope]: next };
}

/**
 * Removes patterns from a scope's rule. A scope without a rule allows every
 * graph, as if its rule were `*`; removing the last pattern leaves an empty
 * rule (no graph), never "no rule", so a revoke can only narrow.
 */
export function revokeGraphPatterns(rules: GraphRules | undefined, scope: Scope, patterns: readonly string[]): GraphRules {
  const current = rules?.[scope] ?? ['*'];
  const missing = patterns.filter((p) => !current.includes(p));
  if (missing.length > 0) {
    const has = rules?.[scope] === undefined ? `it has no "${scope}" rule, which allows every graph (as \`*\` would)` : current.length === 0 ? `its "${scope}" rule allows no graph` : `its "${scope}" rule lists: ${current.join(', ')}`;
    throw new GatewayError('REQUEST_INVALID', `Cannot revoke ${missing.join(', ')}: ${has}. Revoke patterns exactly as listed; to allow fewer graphs than \`*\`, revoke \`*\` and grant the patterns to keep.`);
  }
  return { ...rules, [scope]: current.filter((p) => !patterns.includes(p)) };
}

/** The rules in words, one scope each: `read: *`, `write: sales_*`, `admin: none`, or `every graph` without a rule. */
export function describeGraphRules(rules: GraphRules | undefined): Array<[Scope, string]> {
  return SCOPES.map((scope) => {
    const patterns = rules?.[scope];
    return [scope, patterns === undefined ? 'every graph' : patterns.length === 0 ? 'none' : patterns.join(', ')];
  });
}

/**
 * Whether a token with the `graphs` claim `holder` covers every graph a token with
 * `other` covers. Conservative: with both limited, each of `other`'s patterns must
 * be listed in `holder` as it is.
 */
export function graphClaimCovers(holder: readonly string[] | undefined, other: readonly string[] | undefined): boolean {
  if (holder === undefined) return true;
  if (other === undefined) return false;
  return other.every((pattern) => holder.includes(pattern));
}

/** The caller as far as graph rights go: the token's scopes and graphs claim. */
export interface GraphHolder {
  readonly scopes: readonly Scope[];
  readonly graphs?: readonly string[];
}

/**
 * Which rules refuse `scope` on `graph`, in the order they are checked (tenant,
 * then token); empty when the right is granted. The token's scope itself is
 * checked by requireScope before this.
 */
export function graphRuleRefusals(holder: GraphHolder, tenantRules: GraphRules | undefined, scope: Scope, graph: string): GraphRuleSource[] {
  const refused: GraphRuleSource[] = [];
  const tenantPatterns = tenantRules?.[scope];
  if (tenantPatterns !== undefined && !matchesAnyPattern(tenantPatterns, graph)) refused.push('tenant');
  if (holder.graphs !== undefined && !matchesAnyPattern(holder.graphs, graph)) refused.push('token');
  return refused;
}

/** The effective right: the token has the scope, and neither the tenant's rule nor the token's claim refuses the graph. */
export function mayUseGraph(holder: GraphHolder, tenantRules: GraphRules | undefined, scope: Scope, graph: string): boolean {
  return hasScope(holder, scope) && graphRuleRefusals(holder, tenantRules, scope, graph).length === 0;
}

/** Throws the GRAPH_FORBIDDEN of graphRightRefusal, if any. */
export function requireGraphRight(holder: GraphHolder, tenantRules: GraphRules | undefined, scope: Scope, graph: string, action = 'This'): void {
  const refusal = graphRightRefusal(holder, tenantRules, scope, graph, action);
  if (refusal !== undefined) throw refusal;
}

/**
 * GRAPH_FORBIDDEN naming the rule that refuses `scope` on `graph`, or undefined
 * when none does. The message names only the graph the caller asked for and the
 * token's own patterns, never the tenant's patterns (they may name graphs the
 * caller cannot see).
 */
export function graphRightRefusal(holder: GraphHolder, tenantRules: GraphRules | undefined, scope: Scope, graph: string, action = 'This'): GatewayError | undefined {
  const refused = graphRuleRefusals(holder, tenantRules, scope, graph);
  if (refused.length === 0) return undefined;
  const tokenPatterns = (holder.graphs ?? []).join(', ') || 'none';
  const byToken = `this token's "${GRAPHS_CLAIM}" claim limits it to graphs matching: ${tokenPatterns}`;
  const message =
    refused[0] === 'tenant'
      ? `${action} needs "${scope}" on graph "${graph}", which your tenant's graph rule for "${scope}" does not allow${refused.includes('token') ? ` (and ${byToken})` : ''}. Ask the operator to grant it (tenant grant), or use another graph; falkordb_list_graphs lists the graphs you may read.`
      : `${action} needs "${scope}" on graph "${graph}", but ${byToken}. Use a graph that matches, or ask the operator for a token that covers this graph.`;
  return new GatewayError('GRAPH_FORBIDDEN', message, { scope, rule: refused.join('+') });
}
