// What a tenant id may be. The id itself comes only from a verified token; this
// only decides whether a verified value is usable as one.

import { GatewayError } from '../errors.js';
import { graphPatternMatches } from './graph-rules.js';

export const MAX_TENANT_ID_LENGTH = 256;

/** Returns the id unchanged, or throws TENANT_ID_INVALID saying what is wrong. */
export function validateTenantId(value: unknown): string {
  if (typeof value !== 'string' || value.length === 0) {
    throw new GatewayError('TENANT_ID_INVALID', 'The tenant id must be a non-empty string.');
  }
  if (value.length > MAX_TENANT_ID_LENGTH) {
    throw new GatewayError('TENANT_ID_INVALID', `The tenant id is longer than ${MAX_TENANT_ID_LENGTH} characters.`);
  }
  // Lone surrogates would all encode to U+FFFD and so collide with each other.
  if (!value.isWellFormed()) {
    throw new GatewayError('TENANT_ID_INVALID', 'The tenant id is not well-formed Unicode.');
  }
  return value;
}

/**
 * SERVE_TENANTS as a test of one tenant id: each entry an exact id or a pattern whose `*` stands for any run of
 * characters; an entry starting with `!` excludes what it matches (`*,!acme`: every tenant but acme). With only
 * exclusions, every other tenant is served. Undefined: every tenant.
 */
export function servesTenants(entries: readonly string[] | undefined): ((tenant: string) => boolean) | undefined {
  if (entries === undefined) return undefined;
  const matcher = (patterns: string[]) => {
    const exact = new Set(patterns.filter((p) => !p.includes('*')));
    const wild = patterns.filter((p) => p.includes('*'));
    return (tenant: string) => exact.has(tenant) || wild.some((pattern) => graphPatternMatches(pattern, tenant));
  };
  const included = entries.filter((e) => !e.startsWith('!'));
  const excluded = matcher(entries.filter((e) => e.startsWith('!')).map((e) => e.slice(1)));
  const includes = included.length === 0 ? () => true : matcher(included);
  return (tenant) => includes(tenant) && !excluded(tenant);
}
