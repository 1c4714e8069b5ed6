// Where verification keys come from (shared secret, PEM file, JWKS URL, the
// gateway's own keys) and which of them may check a token with a given alg/kid.

import type { KeyObject } from 'node:crypto';
import { createRemoteJWKSet, errors, type CryptoKey } from 'jose';
import type { Config } from '../config/index.js';
import { GatewayError } from '../errors.js';
import { ASYMMETRIC_ALGORITHMS, HMAC_ALGORITHMS, readPublicKeyFile } from './keys.js';
import type { PublicSigningKey } from './signing.js';
import { toTokenError, type TokenErrorContext } from './token-errors.js';

export type VerificationKey = KeyObject | CryptoKey | Uint8Array;

/** One place a key may come from; `keys()` throws a GatewayError when the source cannot answer. */
export interface KeyCandidate {
  readonly source: 'secret' | 'file' | 'jwks' | 'own';
  keys(): Promise<readonly VerificationKey[]>;
}

export interface JwksOptions {
  /** Least time between two fetches caused by unknown kids, so forged kids cannot hammer the IdP. */
  cooldownMs?: number;
  /** Refetch a JWKS older than this even when every kid is known. */
  cacheMaxAgeMs?: number;
  timeoutMs?: number;
}

export interface KeySources {
  /** Every alg some configured source can verify; anything else is refused before any key work. */
  readonly algorithms: ReadonlySet<string>;
  readonly hasOwnKeys: boolean;
  /** The sources to try, in order, for a token with this alg and kid. */
  candidatesFor(alg: string, kid: string | undefined): readonly KeyCandidate[];
}

function fixed(source: KeyCandidate['source'], key: VerificationKey): KeyCandidate {
  const keys = Object.freeze([key]);
  return { source, keys: () => Promise.resolve(keys) };
}

/**
 * The keys a remote JWKS holds for a token's alg and kid: cached by jose,
 * refetched on an unknown kid at most once per cooldown. Throws jose's errors.
 */
export function remoteKeySet(url: URL, jwks: JwksOptions = {}): (alg: string, kid: string | undefined) => Promise<CryptoKey[]> {
  const remote = createRemoteJWKSet(url, {
    cooldownDuration: jwks.cooldownMs ?? 30_000,
    cacheMaxAge: jwks.cacheMaxAgeMs ?? 600_000,
    timeoutDuration: jwks.timeoutMs ?? 5_000,
  });
  return async (alg, kid) => {
    try {
      return [await remote(kid === undefined ? { alg } : { alg, kid })];
    } catch (error) {
      // Several keys fit a token without kid (e.g. during rotation): try each.
      if (error instanceof errors.JWKSMultipleMatchingKeys) {
        const keys: CryptoKey[] = [];
        for await (const key of error as errors.JWKSMultipleMatchingKeys & AsyncIterable<CryptoKey>) keys.push(key);
        return keys;
      }
      throw error;
    }
  };
}

function jwksCandidate(url: URL, jwks: JwksOptions, context: TokenErrorContext, onFailure: () => void): (alg: string, kid: string | undefined) => KeyCandidate {
  const remote = remoteKeySet(url, jwks);
  const errorContext = { ...context, fromJwks: true };
  return (alg, kid) => ({
    source: 'jwks',
    keys: async () => {
      try {
        return await remote(alg, kid);
      } catch (error) {
        const failure = toTokenError(error, errorContext);
        // An unknown kid is the token's problem; anything else means the key set could not be had.
        if (!(error instanceof errors.JWKSNoMatchingKey)) onFailure();
        throw failure;
      }
    },
  });
}

export async function createKeySources(
  auth: Config['auth'],
  ownKeys: readonly PublicSigningKey[],
  jwks: JwksOptions = {},
  onJwksFailure: () => void = () => undefined,
): Promise<KeySources> {
  const context: TokenErrorContext = { issuer: auth.issuer, audience: auth.audience };
  const algorithms = new Set<string>();

  const secret = auth.jwtSecret === undefined ? undefined : fixed('secret', new TextEncoder().encode(auth.jwtSecret));
  if (secret !== undefined) HMAC_ALGORITHMS.forEach((a) => algorithms.add(a));

  let file: { candidate: KeyCandidate; algorithms: readonly string[] } | undefined;
  if (auth.publicKeyFile !== undefined) {
    const { key, algorithms: fileAlgorithms } = await readPublicKeyFile(auth.publicKeyFile, 'AUTH_PUBLIC_KEY_FILE');
    file = { candidate: fixed('file', key), algorithms: fileAlgorithms };
    fileAlgorithms.forEach((a) => algorithms.add(a));
  }

  const jwksFor = auth.jwksUrl === undefined ? undefined : jwksCandidate(new URL(auth.jwksUrl), jwks, context, onJwksFailure);
  if (jwksFor !== undefined) ASYMMETRIC_ALGORITHMS.forEach((a) => algorithms.add(a));

  const own = new Map<string, { alg: string; candidate: KeyCandidate }>();
  for (const key of ownKeys) {
    own.set(key.kid, { alg: key.alg, candidate: fixed('own', key.key) });
    algorithms.add(key.alg);
  }

  if (algorithms.size === 0) {
    throw new GatewayError(
      'CONFIG_INVALID',
      'No way to verify tokens is configured; set AUTH_JWT_SECRET, AUTH_PUBLIC_KEY_FILE, AUTH_JWKS_URL or AUTH_SIGNING_KEY_FILE.',
    );
  }

  return {
    algorithms,
    hasOwnKeys: own.size > 0,
    candidatesFor(alg, kid) {
      if (HMAC_ALGORITHMS.includes(alg)) return secret === undefined ? [] : [secret];
      // A kid that is one of our thumbprints names our key and nothing else.
      const mine = kid === undefined ? undefined : own.get(kid);
      if (mine !== undefined) return mine.alg === alg ? [mine.candidate] : [];
      const found: KeyCandidate[] = [];
      if (file !== undefined && file.algorithms.includes(alg)) found.push(file.candidate);
      if (jwksFor !== undefined && ASYMMETRIC_ALGORITHMS.includes(alg)) found.push(jwksFor(alg, kid));
      return found;
    },
  };
}
