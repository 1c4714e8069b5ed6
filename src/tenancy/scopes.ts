// What a token allows: the three gateway scopes, read from token claims or a
// user-typed list, with admin ⇒ write ⇒ read expansion.

import { GatewayError } from '../errors.js';

export type Scope = 'read' | 'write' | 'admin';

/** Every scope, weakest first; the order expansion and output follow. */
export const SCOPES: readonly Scope[] = Object.freeze(['read', 'write', 'admin']);

const RANK: Readonly<Record<Scope, number>> = { read: 0, write: 1, admin: 2 };

/** The claims identity providers put scopes in: OAuth `scope`, Azure/Okta `scp`, Auth0 `permissions`. */
const SCOPE_CLAIMS = ['scope', 'scp', 'permissions'] as const;

export function isScope(value: unknown): value is Scope {
  return typeof value === 'string' && Object.hasOwn(RANK, value);
}

/** Adds every scope implied by the given ones: admin ⇒ write ⇒ read. */
export function expandScopes(scopes: Iterable<Scope>): readonly Scope[] {
  let highest = -1;
  for (const scope of scopes) highest = Math.max(highest, RANK[scope]);
  return Object.freeze(SCOPES.slice(0, highest + 1));
}

function words(value: unknown): string[] {
  if (typeof value === 'string') return value.split(/\s+/).filter((w) => w !== '');
  if (Array.isArray(value)) return value.filter((w): w is string => typeof w === 'string').flatMap(words);
  return [];
}

/**
 * The expanded scopes granted by a verified claims set. Scopes meant for other
 * services (`profile`, `read:billing`, …) are ignored, not refused: one IdP
 * token often carries many.
 */
export function scopesFromClaims(claims: Readonly<Record<string, unknown>>): readonly Scope[] {
  const found = SCOPE_CLAIMS.flatMap((claim) => words(claims[claim])).filter(isScope);
  return expandScopes(found);
}

/**
 * Parses a list typed by a person (`"read write"`, `"read,write"`). Unlike
 * claims, an unknown word here is a typo and is refused.
 */
export function parseScopeList(input: string): readonly Scope[] {
  const list = input.split(/[\s,]+/).filter((w) => w !== '');
  if (list.length === 0) {
    throw new GatewayError('REQUEST_INVALID', `No scope given; use one or more of: ${SCOPES.join(', ')}.`);
  }
  const unknown = list.filter((w) => !isScope(w));
  if (unknown.length > 0) {
    const shown = unknown.map((w) => JSON.stringify(w.slice(0, 40))).join(', ');
    throw new GatewayError('REQUEST_INVALID', `Unknown scope ${shown}; scopes are: ${SCOPES.join(', ')} (admin includes write, write includes read).`);
  }
  return Object.freeze(SCOPES.filter((s) => list.includes(s)));
}

/**
 * Whether the holder may act with `scope`: it holds that scope or a stronger one,
 * so an unexpanded list is read correctly too. Called on every check: no list is built.
 */
export function hasScope(holder: { readonly scopes: readonly Scope[] }, scope: Scope): boolean {
  const needed = RANK[scope];
  for (const held of holder.scopes) if (RANK[held] >= needed) return true;
  return false;
}

/**
 * Throws SCOPE_MISSING naming the scope that is needed and the ones the token has.
 * `details.scope` is what the HTTP layer puts in its insufficient_scope challenge.
 */
export function requireScope(holder: { readonly scopes: readonly Scope[] }, scope: Scope, action = 'This'): void {
  if (hasScope(holder, scope)) return;
  const granted = expandScopes(holder.scopes);
  throw new GatewayError(
    'SCOPE_MISSING',
    `${action} needs the "${scope}" scope; this token has: ${granted.length === 0 ? 'none' : granted.join(' ')}. Ask the operator for a token with "${scope}".`,
    { scope },
  );
}
