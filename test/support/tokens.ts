// Signs test tokens with jose, the way an identity provider would.

import { SignJWT } from 'jose';

export const TEST_SECRET = 'test-secret-for-hs256-that-is-at-least-32-bytes';
export const TEST_ISSUER = 'falkordb-mcp-gateway';
export const TEST_AUDIENCE = 'falkordb-mcp-gateway';

export interface TestTokenOptions {
  scope?: string;
  expiresInSec?: number;
  issuer?: string;
  audience?: string;
  secret?: string;
  claims?: Record<string, unknown>;
  omitSub?: boolean;
  notBeforeSec?: number;
}

export async function signTestToken(tenant: string, options: TestTokenOptions = {}): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  const jwt = new SignJWT({ scope: options.scope ?? 'read write admin', ...options.claims })
    .setProtectedHeader({ alg: 'HS256' })
    .setIssuer(options.issuer ?? TEST_ISSUER)
    .setAudience(options.audience ?? TEST_AUDIENCE)
    .setIssuedAt(now)
    .setExpirationTime(now + (options.expiresInSec ?? 3600))
    .setJti(crypto.randomUUID());
  if (!options.omitSub) jwt.setSubject(tenant);
  if (options.notBeforeSec !== undefined) jwt.setNotBefore(now + options.notBeforeSec);
  return jwt.sign(new TextEncoder().encode(options.secret ?? TEST_SECRET));
}
