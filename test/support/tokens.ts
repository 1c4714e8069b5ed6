// Signs test tokens with jose, the way an identity provider would.

import { generateKeyPairSync } from 'node:crypto';
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

/** A token of a long-lived kind (30 days) with an hour left. */
export async function expiringToken(tenant: string): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({ scope: 'read' })
    .setProtectedHeader({ alg: 'HS256' })
    .setIssuer(TEST_ISSUER)
    .setAudience(TEST_AUDIENCE)
    .setSubject(tenant)
    .setIssuedAt(now - 30 * 24 * 3600 + 3600)
    .setExpirationTime(now + 3600)
    .sign(new TextEncoder().encode(TEST_SECRET));
}

/** An RS256 token for the identity provider's key set, which nobody serves. */
export async function identityProviderToken(tenant: string): Promise<string> {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  return new SignJWT({ scope: 'read' })
    .setProtectedHeader({ alg: 'RS256', kid: 'idp-key' })
    .setIssuer(TEST_ISSUER)
    .setAudience(TEST_AUDIENCE)
    .setSubject(tenant)
    .setIssuedAt()
    .setExpirationTime('1h')
    .sign(privateKey);
}
