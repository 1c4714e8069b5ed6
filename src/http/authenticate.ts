// Finds the bearer token of a request (header, or `?token=` when allowed) and
// turns it into a verified Principal. The token is never logged or echoed.

import type { IncomingMessage } from 'node:http';
import type { AuthFailureLimit } from '../admission/refusal-limit.js';
import type { AccessPolicy } from '../auth/access-policy.js';
import type { Principal } from '../tenancy/principal.js';
import type { TokenVerifier } from '../auth/verify.js';
import { GatewayError, isGatewayError } from '../errors.js';
import { refusalCount } from '../observability/refusal-reasons.js';

export interface PresentedToken {
  token: string;
  via: 'header' | 'query';
}

/**
 * The token of `req`: from the `headerName` header (AUTH_HEADER_NAME, `Authorization`
 * by default) as `Bearer <token>`, else from `?token=`. With another header name
 * configured, `Authorization` is not read at all: the proxy in front owns it, and
 * its credential is never taken for the tenant's.
 */
export function presentedToken(req: IncomingMessage, url: URL, headerName = 'Authorization'): PresentedToken | undefined {
  const header = req.headers[headerName.toLowerCase()];
  if (header !== undefined) {
    const match = typeof header === 'string' ? /^Bearer[ ]+(\S+)\s*$/i.exec(header) : null;
    if (!match?.[1]) {
      throw new GatewayError('TOKEN_MALFORMED', `The ${headerName} header must read "Bearer <token>".`);
    }
    return { token: match[1], via: 'header' };
  }
  const fromQuery = url.searchParams.get('token');
  if (fromQuery !== null && fromQuery !== '') return { token: fromQuery, via: 'query' };
  return undefined;
}

export interface Authenticator {
  verifier: TokenVerifier;
  /** Revocation, tenant status and address checks after the signature. */
  policy: AccessPolicy;
  allowQueryToken: boolean;
  /** The header the token comes in (AUTH_HEADER_NAME); `Authorization` when left out. */
  headerName?: string;
  /** Failed authentications per client address (AUTH_FAILURES_PER_MINUTE); none: unlimited. */
  failures?: AuthFailureLimit;
  /** SERVE_TENANTS: whether this instance serves the tenant; absent: every tenant. */
  serves?: ((tenant: string) => boolean) | undefined;
}

/** The refusal of a dedicated instance (SERVE_TENANTS) to a tenant it does not serve; names no tenant it serves. */
export function notServed(tenant: string): GatewayError {
  return new GatewayError('TENANT_NOT_SERVED', `This gateway instance is dedicated to other tenants and does not serve tenant "${tenant}"; connect to your own gateway address (ask the operator which it is).`);
}

/** A refusal that counts against the address: the token or its tenant's status was refused (not the address limit itself). */
function isAuthFailure(error: unknown): boolean {
  return isGatewayError(error) && error.code !== 'AUTH_FAILURES_LIMITED' && refusalCount(error.code)?.counter === 'auth_failure';
}

/**
 * Verifies the request's token, then the policy (revocation, tenant status, the tenant's
 * allowed addresses for `clientIp`). An address over its failed-authentication limit
 * gets AUTH_FAILURES_LIMITED before any signature check or lookup, unless its token is
 * one the verifier already accepted (then the policy still runs).
 */
export async function authenticate(
  req: IncomingMessage,
  url: URL,
  authenticator: Authenticator,
  clientIp: string | undefined,
  /** Told who the verified caller is before the policy runs, so a policy refusal can name the tenant. */
  onVerified: (principal: Principal) => void = () => undefined,
): Promise<Principal> {
  try {
    return await authenticateToken(req, url, authenticator, clientIp, onVerified);
  } catch (error) {
    if (authenticator.failures !== undefined && isAuthFailure(error)) await authenticator.failures.failed(clientIp);
    throw error;
  }
}

async function authenticateToken(
  req: IncomingMessage,
  url: URL,
  { verifier, policy, allowQueryToken, headerName = 'Authorization', failures, serves }: Authenticator,
  clientIp: string | undefined,
  onVerified: (principal: Principal) => void,
): Promise<Principal> {
  const overLimit = await failures?.refusal(clientIp);
  const presented = presentedToken(req, url, headerName);
  if (presented === undefined) {
    throw new GatewayError('TOKEN_MISSING', `No access token: send "${headerName}: Bearer <token>", or add ?token=<token> to the URL for clients that cannot set headers.`);
  }
  if (presented.via === 'query' && !allowQueryToken) {
    throw new GatewayError('QUERY_TOKEN_DISABLED', `Tokens on the URL are turned off on this gateway; send "${headerName}: Bearer <token>" instead.`);
  }
  const principal = overLimit === undefined ? await verifier.verify(presented.token) : verifier.known?.(presented.token);
  if (principal === undefined) throw overLimit;
  onVerified(principal);
  if (serves !== undefined && !serves(principal.tenant)) throw notServed(principal.tenant);
  await policy.check(principal, clientIp);
  return principal;
}
