// Access tokens for the benchmark tenants, signed once per tier like an identity provider would.

import { signTestToken } from '../test/support/tokens.js';
import { tenantName } from './dataset.js';

const TOKEN_TTL_SEC = 6 * 3600;
const cache = new Map<number, string[]>();

/** One token per tenant of the tier (scopes read and write), in tenant order. */
export async function tierTokens(tenants: number): Promise<string[]> {
  let tokens = cache.get(tenants);
  if (tokens === undefined) {
    tokens = [];
    for (let i = 0; i < tenants; i++) tokens.push(await signTestToken(tenantName(tenants, i), { scope: 'read write', expiresInSec: TOKEN_TTL_SEC }));
    cache.set(tenants, tokens);
  }
  return tokens;
}
