// Turns a bearer token into a Principal, or a TOKEN_* GatewayError saying why not.
// Verified tokens are cached until their expiry (or a short max age), by the
// hash of their signature part, and served only to the same token.

import { hash } from 'node:crypto';
import { decodeJwt, jwtVerify, type JWTPayload } from 'jose';
import type { Config } from '../config/index.js';
import { GatewayError } from '../errors.js';
import { validateTenantId } from '../tenancy/tenant-id.js';
import { hmacSignatureMatches } from './hmac-check.js';
import { createKeySources, type JwksOptions } from './key-sources.js';
import { ASYMMETRIC_ALGORITHMS } from './keys.js';
import type { Principal } from '../tenancy/principal.js';
import { graphPatternsFromClaims } from '../tenancy/graph-rules.js';
import { scopesFromClaims } from '../tenancy/scopes.js';
import type { PublicSigningKey } from './signing.js';
import type { TenantKeyResolver } from './tenant-keys.js';
import { SIGNATURE_MISMATCH, toTokenError, type TokenErrorContext } from './token-errors.js';
import { boundedCache } from '../bounded-cache.js';

export interface TokenVerifierOptions {
  auth: Config['auth'];
  /** The gateway's own public keys (kid + alg), for the tokens it signs itself. */
  ownKeys?: readonly PublicSigningKey[];
  /** Milliseconds since the epoch; injectable for tests. */
  now?: () => number;
  /** Most verified tokens kept; 0 turns the cache off. */
  cacheSize?: number;
  /** Longest a verified token is served from the cache, even if it expires later. */
  cacheMaxAgeMs?: number;
  jwks?: JwksOptions;
  /** Keys tenants registered for their own tokens; tried only for the tenant a token names. */
  tenantKeys?: TenantKeyResolver;
  /** Told each time the identity provider's key set (AUTH_JWKS_URL) cannot be fetched. */
  onJwksFailure?: () => void;
  /**
   * This resource's canonical URL (`<base>/mcp`, RFC 8707): also accepted as `aud`, besides
   * AUTH_AUDIENCE, since OAuth clients ask for tokens bound to it. A function: the port is known only once the listener is bound.
   */
  resource?: () => string;
}

export interface TokenVerifier {
  verify(token: string): Promise<Principal>;
  /**
   * The principal of a token this verifier accepted recently and still holds, without
   * checking any signature; undefined for any other token. Lets an address over its
   * failed-authentication limit keep using the tokens already known good.
   */
  known?(token: string): Principal | undefined;
  /** Whether tokens the gateway signs itself are accepted. */
  readonly hasOwnKeys: boolean;
}

/** Far above any real access token; refusing bigger ones bounds the work a request can cause. */
const MAX_TOKEN_LENGTH = 16 * 1024;
/** Three base64url parts; the signature may be empty so that `alg: none` gets its own, clearer refusal. */
const COMPACT_JWS = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/;

interface CachedPrincipal {
  principal: Principal;
  /** Epoch ms after which this entry is never served. */
  until: number;
  /** The token's `header.payload`, which a hit must match exactly (a copy: no slice of the token's own text). */
  signingInput: string;
}

/**
 * Where a token stands in the verified-token cache. `key` is the SHA-256 of
 * its signature part: the JWS signature (or MAC) over `header.payload`, a few
 * dozen to a few hundred characters, so hashing it costs a fraction of hashing
 * the whole token. A hit must also have the same `header.payload`, compared in
 * full, so two tokens differing anywhere never share an entry. The cache holds
 * no usable token: `header.payload` without its signature is not one, and the
 * signature is kept only as its hash.
 */
interface CacheSlot {
  key: string;
  /** Length of `header.payload` (where the last dot is). */
  dot: number;
}

function cacheSlotOf(token: string): CacheSlot | undefined {
  const dot = token.lastIndexOf('.');
  // No signature (or no dot): never verified, so never cached.
  if (dot < 0 || dot === token.length - 1) return undefined;
  return { key: hash('sha256', token.slice(dot + 1), 'base64url'), dot };
}

/** A copy of the text that shares no memory with `text` (a slice would keep the whole token alive). */
function detached(text: string): string {
  return Buffer.from(text, 'latin1').toString('latin1');
}

function malformed(): GatewayError {
  return new GatewayError('TOKEN_MALFORMED', 'The token is not a signed JWT (three base64url parts separated by dots).');
}

/** The header fields key selection needs, read without trusting anything else in the token. */
function readHeader(token: string, algorithms: ReadonlySet<string>): { alg: string; kid: string | undefined } {
  if (token.length > MAX_TOKEN_LENGTH || !COMPACT_JWS.test(token)) throw malformed();
  // The same reading as jose's decodeProtectedHeader, with Buffer and JSON.parse: every refused token pays it.
  let header: unknown;
  try {
    header = JSON.parse(Buffer.from(token.slice(0, token.indexOf('.')), 'base64url').toString('utf8'));
  } catch {
    throw malformed();
  }
  if (header === null || typeof header !== 'object' || Array.isArray(header)) throw malformed();
  const { alg, kid } = header as { alg?: unknown; kid?: unknown };
  if (typeof alg !== 'string' || alg === '' || alg.toLowerCase() === 'none') {
    throw new GatewayError('TOKEN_ALGORITHM_REFUSED', 'Unsigned tokens (alg "none") are refused.');
  }
  if (!algorithms.has(alg)) {
    const accepted = [...algorithms].join(', ');
    throw new GatewayError('TOKEN_ALGORITHM_REFUSED', `The token is signed with ${JSON.stringify(alg.slice(0, 20))}, which no configured key accepts (accepted: ${accepted}).`);
  }
  if (kid !== undefined && typeof kid !== 'string') throw malformed();
  return { alg, kid };
}

/** The tenant a token claims, read before its signature is checked: only used to pick that tenant's key. */
function claimedTenant(token: string, tenantClaim: string): string | undefined {
  try {
    const value = decodeJwt(token)[tenantClaim];
    return typeof value === 'string' && value !== '' ? value : undefined;
  } catch {
    return undefined;
  }
}

interface VerifiedToken {
  payload: JWTPayload;
  /** Thumbprint of the tenant's own key, when that key verified the token. */
  tenantKeyKid?: string;
  byTenantKey: boolean;
}

function toPrincipal({ payload, tenantKeyKid, byTenantKey }: VerifiedToken, tenantClaim: string): Principal {
  let tenant: string;
  try {
    tenant = validateTenantId(payload[tenantClaim]);
  } catch (error) {
    const why = error instanceof GatewayError ? ` ${error.message}` : '';
    throw new GatewayError('TOKEN_TENANT_MISSING', `The token has no usable "${tenantClaim}" claim naming its tenant.${why}`, { claim: tenantClaim });
  }
  const graphs = graphPatternsFromClaims(payload);
  const principal: Principal = {
    tenant,
    subject: typeof payload.sub === 'string' && payload.sub !== '' ? payload.sub : tenant,
    scopes: scopesFromClaims(payload),
    ...(graphs === undefined ? {} : { graphs }),
    expiresAt: payload.exp!,
    ...(typeof payload.iat === 'number' ? { issuedAt: payload.iat } : {}),
    ...(typeof payload.jti === 'string' ? { jti: payload.jti } : {}),
    ...(typeof payload['device'] === 'string' ? { device: payload['device'] } : {}),
    ...(byTenantKey ? { signedBy: 'tenant' as const } : {}),
    ...(tenantKeyKid === undefined ? {} : { tenantKeyKid }),
  };
  return Object.freeze(principal);
}

export async function createTokenVerifier(options: TokenVerifierOptions): Promise<TokenVerifier> {
  const { auth } = options;
  const now = options.now ?? Date.now;
  const sources = await createKeySources(auth, options.ownKeys ?? [], options.jwks, options.onJwksFailure);
  const context: TokenErrorContext = { issuer: auth.issuer, audience: auth.audience };
  const cacheSize = options.cacheSize ?? 10_000;
  const cacheMaxAgeMs = options.cacheMaxAgeMs ?? 60_000;
  const tenantKeys = options.tenantKeys;
  // Tenants' own keys are asymmetric; their algorithms are accepted once a registry is consulted.
  const algorithms = new Set([...sources.algorithms, ...(tenantKeys === undefined ? [] : ASYMMETRIC_ALGORITHMS)]);
  // Keyed by the hash of the signature part (see CacheSlot), so the cache never holds a usable token.
  const cache = cacheSize > 0 ? boundedCache<string, CachedPrincipal>(cacheSize) : undefined;

  const audiences = (): string[] => (options.resource === undefined ? [auth.audience] : [auth.audience, options.resource()]);
  const verifyOptions = (alg: string, at: number, issuer: string) => ({
    algorithms: [alg],
    issuer,
    audience: audiences(),
    requiredClaims: ['exp'],
    clockTolerance: auth.clockToleranceSec,
    currentDate: new Date(at),
  });

  async function verifySignedToken(token: string, at: number): Promise<VerifiedToken> {
    const { alg, kid } = readHeader(token, algorithms);
    let failure: GatewayError | undefined;
    for (const candidate of sources.candidatesFor(alg, kid)) {
      let keys;
      try {
        keys = await candidate.keys();
      } catch (error) {
        failure = toTokenError(error, context);
        continue;
      }
      for (const key of keys) {
        // A shared secret's signature is checked here first; jose judges only a token that matches (see hmac-check.ts).
        if (key instanceof Uint8Array && hmacSignatureMatches(token, alg, key) === false) {
          failure = new GatewayError('TOKEN_SIGNATURE_INVALID', SIGNATURE_MISMATCH);
          continue;
        }
        try {
          const { payload } = await jwtVerify(token, key, verifyOptions(alg, at, auth.issuer));
          return { payload, byTenantKey: false };
        } catch (error) {
          failure = toTokenError(error, context);
          // The signature checked out, so the claims are the problem: no other key can help.
          if (failure.code !== 'TOKEN_SIGNATURE_INVALID') throw failure;
        }
      }
    }
    const byTenant = tenantKeys === undefined ? undefined : await verifyWithTenantKey(token, alg, kid, at);
    if (byTenant !== undefined) return byTenant;
    throw failure ?? new GatewayError('TOKEN_KEY_UNKNOWN', kid === undefined
      ? `No key this gateway trusts checks ${JSON.stringify(alg)} tokens without a "kid". Get a new token.`
      : 'No key this gateway trusts matches the token\'s "kid". Get a new token.');
  }

  /** Tries the key of the tenant the token names; undefined when that tenant has no usable key. */
  async function verifyWithTenantKey(token: string, alg: string, kid: string | undefined, at: number): Promise<VerifiedToken | undefined> {
    // Tenants' own keys are public keys: a token of another algorithm needs no registry lookup
    // (a flood of bad HS256 tokens naming many tenants would otherwise cost one each).
    if (!ASYMMETRIC_ALGORITHMS.includes(alg)) return undefined;
    const tenant = claimedTenant(token, auth.tenantClaim);
    const tenantKey = tenant === undefined ? undefined : await tenantKeys?.(tenant);
    if (tenant === undefined || tenantKey === undefined || !tenantKey.algorithms.includes(alg)) return undefined;
    const tenantContext = { issuer: tenantKey.issuer, audience: auth.audience };
    let keys;
    try {
      keys = await tenantKey.keys(alg, kid);
    } catch {
      return undefined;
    }
    for (const key of keys) {
      let payload: JWTPayload;
      try {
        ({ payload } = await jwtVerify(token, key, verifyOptions(alg, at, tenantKey.issuer)));
      } catch (error) {
        const failure = toTokenError(error, tenantContext);
        if (failure.code !== 'TOKEN_SIGNATURE_INVALID') throw failure;
        continue;
      }
      // The key was chosen by this claim; a verified payload naming anyone else is refused outright.
      if (payload[auth.tenantClaim] !== tenant) {
        throw new GatewayError('TOKEN_SIGNATURE_INVALID', 'A tenant\'s key may only sign tokens for that tenant.');
      }
      return { payload, byTenantKey: true, ...(tenantKey.kid === undefined ? {} : { tenantKeyKid: tenantKey.kid }) };
    }
    throw new GatewayError('TOKEN_SIGNATURE_INVALID', 'The token\'s signature matches neither the key registered for the tenant it names nor any key this gateway trusts.');
  }

  /** The cached principal of the token while it may still be served from the cache. */
  const cached = (token: string, slot: CacheSlot, at: number): Principal | undefined => {
    const hit = cache?.get(slot.key);
    // Same signature part; the rest must be the same text too.
    if (hit === undefined || hit.signingInput.length !== slot.dot || token.slice(0, slot.dot) !== hit.signingInput) return undefined;
    if (at < hit.until) return hit.principal;
    cache?.delete(slot.key);
    return undefined;
  };

  return {
    hasOwnKeys: sources.hasOwnKeys,
    known(token) {
      if (cache === undefined || typeof token !== 'string' || token === '' || token.length > MAX_TOKEN_LENGTH) return undefined;
      const slot = cacheSlotOf(token);
      return slot === undefined ? undefined : cached(token, slot, now());
    },
    async verify(token) {
      if (typeof token !== 'string' || token === '') {
        throw new GatewayError('TOKEN_MISSING', 'No token was given; send "Authorization: Bearer <token>".');
      }
      const at = now();
      const slot = cache === undefined || token.length > MAX_TOKEN_LENGTH ? undefined : cacheSlotOf(token);
      const hit = slot === undefined ? undefined : cached(token, slot, at);
      if (hit !== undefined) return hit;

      const verified = await verifySignedToken(token, at);
      const { payload } = verified;
      // jose checks iat only together with maxTokenAge; a token from the future is not yet valid.
      if (typeof payload.iat === 'number' && payload.iat > at / 1000 + auth.clockToleranceSec) {
        throw new GatewayError('TOKEN_NOT_YET_VALID', `The token says it was issued at ${new Date(payload.iat * 1000).toISOString()}, in the future; check the clocks of the issuer and the gateway.`);
      }
      const principal = toPrincipal(verified, auth.tenantClaim);
      const until = Math.min(principal.expiresAt * 1000, at + cacheMaxAgeMs);
      if (cache !== undefined && slot !== undefined && until > at) cache.set(slot.key, { principal, until, signingInput: detached(token.slice(0, slot.dot)) });
      return principal;
    },
  };
}
