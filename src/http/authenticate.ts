// Finds the bearer token of a request (header, or `?token=` when allowed) and
// turns it into a verified Principal. The token is never logged or echoed.

import type { IncomingMessage } from 'node:http';
import type { AccessPolicy } from '../auth/access-policy.js';
import type { Principal } from '../auth/principal.js';
import type { TokenVerifier } from '../auth/verify.js';
import { GatewayError } from '../errors.js';

export interface PresentedToken {
  token: string;
  via: 'header' | 'query';
}

export function presentedToken(req: IncomingMessage, url: URL): PresentedToken | undefined {
  const header = req.headers.authorization;
  if (header !== undefined) {
    const match = /^Bearer[ ]+(\S+)\s*$/i.exec(header);
    if (!match?.[1]) {
      throw new GatewayError('TOKEN_MALFORMED', 'The Authorization header must read "Bearer <token>".');
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
}

/** Verifies the request's token, then the policy (revocation, tenant status, the tenant's allowed addresses for `clientIp`). */
export async function authenticate(
  req: IncomingMessage,
  url: URL,
  { verifier, policy, allowQueryToken }: Authenticator,
  clientIp: string | undefined,
  /** Told who the verified caller is before the policy runs, so a policy refusal can name the tenant. */
  onVerified: (principal: Principal) => void = () => undefined,
): Promise<Principal> {
  const presented = presentedToken(req, url);
  if (presented === undefined) {
    throw new GatewayError('TOKEN_MISSING', 'No access token: send "Authorization: Bearer <token>", or add ?token=<token> to the URL for clients that cannot set headers.');
  }
  if (presented.via === 'query' && !allowQueryToken) {
    throw new GatewayError('QUERY_TOKEN_DISABLED', 'Tokens on the URL are turned off on this gateway; send "Authorization: Bearer <token>" instead.');
  }
  const principal = await verifier.verify(presented.token);
  onVerified(principal);
  await policy.check(principal, clientIp);
  return principal;
}
