// How a refusal's error code is counted in the metrics: as an authentication
// failure, a denial, a rate-limit or a concurrency rejection, with a short reason.

import type { ErrorCode } from '../errors.js';

/** TOKEN_* and tenant-status codes, as the `reason` of falkordb_gateway_auth_failures_total. */
const AUTH_REASONS: ReadonlyMap<string, string> = new Map(Object.entries({
  TOKEN_MISSING: 'missing',
  TOKEN_MALFORMED: 'malformed',
  TOKEN_SIGNATURE_INVALID: 'bad_signature',
  TOKEN_ALGORITHM_REFUSED: 'algorithm',
  TOKEN_EXPIRED: 'expired',
  TOKEN_NOT_YET_VALID: 'not_yet_valid',
  TOKEN_ISSUER_INVALID: 'wrong_issuer',
  TOKEN_AUDIENCE_INVALID: 'wrong_audience',
  TOKEN_CLAIM_INVALID: 'bad_claims',
  TOKEN_TENANT_MISSING: 'no_tenant',
  TOKEN_REVOKED: 'revoked',
  TOKEN_KEY_UNKNOWN: 'unknown_key',
  QUERY_TOKEN_DISABLED: 'query_token_disabled',
  AUTH_FAILURES_LIMITED: 'address_limited',
  TENANT_DISABLED: 'tenant_disabled',
  TENANT_NOT_REGISTERED: 'tenant_not_registered',
} satisfies Partial<Record<ErrorCode, string>>));

/**
 * Refusals of a request the token may well have been good for, as the `reason` of
 * falkordb_gateway_denied_total. IP_FORBIDDEN covers both ALLOWED_IPS and a
 * tenant's own allowed addresses: the error does not say which list refused it.
 */
const DENIAL_REASONS: ReadonlyMap<string, string> = new Map(Object.entries({
  SCOPE_MISSING: 'scope',
  GRAPH_FORBIDDEN: 'graph',
  IP_FORBIDDEN: 'ip',
  ORIGIN_FORBIDDEN: 'origin',
  HOST_FORBIDDEN: 'host',
  SESSION_FORBIDDEN: 'session',
  TENANT_NOT_SERVED: 'tenant_not_served',
} satisfies Partial<Record<ErrorCode, string>>));

export type RefusalCount =
  | { counter: 'auth_failure' | 'denied'; reason: string }
  | { counter: 'rate_limited' | 'concurrency_rejected' };

/** The counter a refusal with this code goes to, or undefined when it is not one we count (bad requests, 404s). */
export function refusalCount(code: string): RefusalCount | undefined {
  const auth = AUTH_REASONS.get(code);
  if (auth !== undefined) return { counter: 'auth_failure', reason: auth };
  const denial = DENIAL_REASONS.get(code);
  if (denial !== undefined) return { counter: 'denied', reason: denial };
  if (code === 'RATE_LIMITED') return { counter: 'rate_limited' };
  if (code === 'TOO_MANY_QUERIES') return { counter: 'concurrency_rejected' };
  return undefined;
}

/** Every reason the auth failure counter can carry. */
export const AUTH_FAILURE_REASONS: readonly string[] = [...AUTH_REASONS.values()];
