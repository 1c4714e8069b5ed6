// The gateway signing its own access tokens: generating, loading (or, in dev mode,
// creating) signing keys, earlier keys kept for rotation, and issuing tokens.

import { createPublicKey, generateKeyPair, randomUUID, type KeyObject } from 'node:crypto';
import { access, link, mkdir, readdir, stat, unlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { calculateJwkThumbprint, exportJWK, SignJWT, type JWK } from 'jose';
import type { Config } from '../config/index.js';
import { GatewayError } from '../errors.js';
import { validateTenantId } from '../tenancy/tenant-id.js';
import { readKeyFileAsPublic, readPrivateKeyFile } from './keys.js';
import { SCOPES, isScope, type Scope } from '../tenancy/scopes.js';

export const DEV_SIGNING_KEY_FILENAME = 'dev-signing-key.pem';

/** A public key the verifier trusts for the gateway's own tokens, matched by `kid`. */
export interface PublicSigningKey {
  /** RFC 7638 thumbprint of `jwk`. */
  readonly kid: string;
  readonly alg: string;
  readonly key: KeyObject;
  /** Public JWK with kid, alg and use, ready for a JWKS document. */
  readonly jwk: Readonly<JWK>;
}

export interface SigningKey {
  readonly kid: string;
  readonly alg: string;
  readonly privateKey: KeyObject;
  readonly publicKey: PublicSigningKey;
}

/** The one way a public key becomes a PublicSigningKey, so a key's kid is the same wherever it is loaded from. */
export async function toPublicSigningKey(key: KeyObject, alg: string): Promise<PublicSigningKey> {
  const bare = await exportJWK(key);
  const kid = await calculateJwkThumbprint(bare, 'sha256');
  return Object.freeze({ kid, alg, key, jwk: Object.freeze({ ...bare, kid, alg, use: 'sig' }) });
}

async function toSigningKey(privateKey: KeyObject, alg: string): Promise<SigningKey> {
  const publicKey = await toPublicSigningKey(createPublicKey(privateKey), alg);
  return Object.freeze({ kid: publicKey.kid, alg, privateKey, publicKey });
}

/** What `keys generate` makes; each is the algorithm signingAlgorithmFor picks for its key type. */
export const GENERATED_KEY_ALGORITHMS = ['ES256', 'RS256', 'EdDSA'] as const;
export type GeneratedKeyAlgorithm = (typeof GENERATED_KEY_ALGORITHMS)[number];

const generateKeyPairAsync = promisify(generateKeyPair);

async function newPrivateKey(alg: GeneratedKeyAlgorithm): Promise<KeyObject> {
  switch (alg) {
    case 'ES256':
      return (await generateKeyPairAsync('ec', { namedCurve: 'prime256v1' })).privateKey;
    case 'RS256':
      return (await generateKeyPairAsync('rsa', { modulusLength: 3072 })).privateKey;
    case 'EdDSA':
      return (await generateKeyPairAsync('ed25519')).privateKey;
    default:
      // Only an untyped caller gets here; the CLI checks --alg before calling.
      throw new GatewayError('REQUEST_INVALID', `Cannot generate a ${JSON.stringify(alg)} key; choose one of ${GENERATED_KEY_ALGORITHMS.join(', ')}.`);
  }
}

/** A new signing key pair as PEM (PKCS#8 private, SPKI public), and the kid its tokens will carry. */
export async function generateSigningKeyPair(alg: GeneratedKeyAlgorithm): Promise<{ privatePem: string; publicPem: string; kid: string }> {
  const key = await toSigningKey(await newPrivateKey(alg), alg);
  return {
    privatePem: key.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    publicPem: key.publicKey.key.export({ type: 'spki', format: 'pem' }).toString(),
    kid: key.kid,
  };
}

/** Loads AUTH_SIGNING_KEY_FILE: ES256 (EC P-256) by default; RSA → RS256, Ed25519 → EdDSA. */
export async function loadSigningKey(file: string): Promise<SigningKey> {
  const { key, algorithm } = await readPrivateKeyFile(file, 'AUTH_SIGNING_KEY_FILE');
  return toSigningKey(key, algorithm);
}

function dataDirProblem(dataDir: string, error: unknown): GatewayError {
  const reason = (error as NodeJS.ErrnoException).code ?? 'unknown error';
  return new GatewayError(
    'DATA_DIR_UNUSABLE',
    `Cannot keep the dev signing key in ${dataDir} (${reason}); make the folder writable, set FALKORDB_DATA_DIR, or set AUTH_SIGNING_KEY_FILE.`,
    { variable: 'FALKORDB_DATA_DIR' },
  );
}

async function createDevKeyFile(dataDir: string, file: string): Promise<void> {
  await mkdir(dataDir, { recursive: true, mode: 0o700 });
  const pem = (await newPrivateKey('ES256')).export({ type: 'pkcs8', format: 'pem' });
  // Written whole to a private temp file, then linked into place: link() fails if the key
  // exists, so two instances starting together never overwrite or half-read each other's key.
  const temp = path.join(dataDir, `.${DEV_SIGNING_KEY_FILENAME}.${process.pid}.${randomUUID()}`);
  await writeFile(temp, pem, { mode: 0o600, flag: 'wx' });
  try {
    await link(temp, file);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  } finally {
    await unlink(temp);
  }
}

/**
 * The dev-mode key: an ES256 key created on first use in `<dataDir>/dev-signing-key.pem`
 * (mode 0600) and reused afterwards, so tokens printed at start-up survive a restart.
 */
export async function loadOrCreateDevSigningKey(dataDir: string): Promise<SigningKey> {
  const file = path.join(dataDir, DEV_SIGNING_KEY_FILENAME);
  try {
    await access(file);
  } catch {
    try {
      await createDevKeyFile(dataDir, file);
    } catch (error) {
      throw dataDirProblem(dataDir, error);
    }
  }
  try {
    const { key, algorithm } = await readPrivateKeyFile(file, 'FALKORDB_DATA_DIR');
    return await toSigningKey(key, algorithm);
  } catch (error) {
    const why = error instanceof GatewayError ? error.message : 'it cannot be read';
    throw new GatewayError('DATA_DIR_UNUSABLE', `The dev signing key is unusable: ${why} Delete ${file} to have a new one made.`, {
      variable: 'FALKORDB_DATA_DIR',
    });
  }
}

const PREVIOUS_KEYS_VARIABLE = 'AUTH_PREVIOUS_KEYS_DIR';

/**
 * AUTH_PREVIOUS_KEYS_DIR: the public keys of every `*.pem` in `dir` (private keys, public keys
 * or certificates; not recursive, dotfiles skipped, by name), so tokens signed before a key
 * rotation keep verifying until the operator removes the file. An empty folder gives none.
 */
export async function loadPreviousKeys(dir: string): Promise<PublicSigningKey[]> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code ?? 'unreadable';
    throw new GatewayError('CONFIG_INVALID', `${PREVIOUS_KEYS_VARIABLE} (${dir}) cannot be read (${reason}); give a folder of *.pem key files the gateway can read.`, {
      variable: PREVIOUS_KEYS_VARIABLE,
    });
  }
  const keys = new Map<string, PublicSigningKey>();
  for (const name of names.filter((n) => !n.startsWith('.') && n.toLowerCase().endsWith('.pem')).sort()) {
    const file = path.join(dir, name);
    // stat follows symlinks (Kubernetes mounts secrets as links); a broken link is left for the read to report.
    const info = await stat(file).catch(() => undefined);
    if (info !== undefined && !info.isFile()) continue;
    const { key, algorithm } = await readKeyFileAsPublic(file, PREVIOUS_KEYS_VARIABLE);
    const publicKey = await toPublicSigningKey(key, algorithm);
    // The same key kept twice (private and public file) would put one kid twice in a JWKS.
    if (!keys.has(publicKey.kid)) keys.set(publicKey.kid, publicKey);
  }
  return [...keys.values()];
}

export interface AccessTokenClaims {
  tenant: string;
  scopes: readonly Scope[];
  ttlSeconds: number;
  device?: string;
  /** Graph-name patterns the token is limited to (the `graphs` claim); absent: no narrowing. */
  graphs?: readonly string[];
  /** Defaults to a random UUID; pass one to know it (revocation by jti). */
  jti?: string;
}

export type SigningOptions = Pick<Config['auth'], 'issuer' | 'audience' | 'tenantClaim'> & {
  /** Milliseconds since the epoch; for tests. */
  now?: () => number;
};

/** Claims the gateway sets itself; a tenant claim by one of these names would be overwritten or confusing. */
const RESERVED_CLAIMS = new Set(['iss', 'aud', 'exp', 'nbf', 'iat', 'jti', 'scope', 'scp', 'permissions', 'device', 'graphs']);

/** Signs an access token: iss, aud, sub (= tenant), the tenant claim, scope, jti, iat, exp, device, graphs. */
export async function signAccessToken(key: SigningKey, claims: AccessTokenClaims, options: SigningOptions): Promise<string> {
  const tenant = validateTenantId(claims.tenant);
  if (RESERVED_CLAIMS.has(options.tenantClaim)) {
    throw new GatewayError('CONFIG_INVALID', `AUTH_TENANT_CLAIM "${options.tenantClaim}" is a claim the gateway sets itself; name another claim.`, { variable: 'AUTH_TENANT_CLAIM' });
  }
  if (!Number.isSafeInteger(claims.ttlSeconds) || claims.ttlSeconds <= 0) {
    throw new GatewayError('REQUEST_INVALID', 'The token lifetime must be a whole number of seconds above zero.');
  }
  const bad = claims.scopes.find((s) => !isScope(s));
  if (bad !== undefined) throw new GatewayError('REQUEST_INVALID', `Unknown scope; scopes are: ${SCOPES.join(', ')}.`);

  const iat = Math.floor((options.now?.() ?? Date.now()) / 1000);
  const payload: Record<string, unknown> = { scope: SCOPES.filter((s) => claims.scopes.includes(s)).join(' ') };
  if (claims.device !== undefined) payload['device'] = claims.device;
  if (claims.graphs !== undefined) payload['graphs'] = [...claims.graphs];
  if (options.tenantClaim !== 'sub') payload[options.tenantClaim] = tenant;
  return new SignJWT(payload)
    .setProtectedHeader({ alg: key.alg, kid: key.kid, typ: 'JWT' })
    .setIssuer(options.issuer)
    .setAudience(options.audience)
    .setSubject(tenant)
    .setJti(claims.jti ?? randomUUID())
    .setIssuedAt(iat)
    .setExpirationTime(iat + claims.ttlSeconds)
    .sign(key.privateKey);
}
