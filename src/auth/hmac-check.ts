// The signature of an HMAC-signed token (the shared secret, AUTH_JWT_SECRET) checked
// with node:crypto before jose sees the token. jose's web-crypto path imports the
// secret as a CryptoKey and builds an error with two stack traces for every token it
// refuses, which made a refused token cost four times a health check: a flood of
// forged tokens would then take CPU from good tenants. A token whose HMAC matches goes
// on to jose, which checks it in full (signature again, claims) as before; only a
// mismatch is decided here, and jose would refuse it for the same reason.

import { createHmac, createSecretKey, timingSafeEqual, type KeyObject } from 'node:crypto';

/** Each secret as a KeyObject, made once: createHmac copies a raw secret on every call. */
const KEYS = new WeakMap<Uint8Array, KeyObject>();

const HASHES: Readonly<Record<string, string>> = Object.freeze({ HS256: 'sha256', HS384: 'sha384', HS512: 'sha512' });

/**
 * False when `token` (compact JWS) is signed with `alg`, an HMAC algorithm, and its
 * signature is not the HMAC of its signing input under `secret`; true when it is;
 * undefined when this cannot say (not HMAC, not three parts), for jose to judge.
 */
export function hmacSignatureMatches(token: string, alg: string, secret: Uint8Array): boolean | undefined {
  const hash = HASHES[alg];
  if (hash === undefined) return undefined;
  const second = token.lastIndexOf('.');
  const first = token.indexOf('.');
  if (first <= 0 || second <= first || token.indexOf('.', first + 1) !== second) return undefined;
  let key = KEYS.get(secret);
  if (key === undefined) KEYS.set(secret, (key = createSecretKey(secret)));
  const expected = createHmac(hash, key).update(token.slice(0, second)).digest();
  const presented = Buffer.from(token.slice(second + 1), 'base64url');
  return presented.length === expected.length && timingSafeEqual(presented, expected);
}
