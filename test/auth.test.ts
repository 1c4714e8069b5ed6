// Token verification, scopes and the gateway's own signing keys, as the
// security contract in DESIGN.md states them. Only loopback network is used.

import assert from 'node:assert/strict';
import { createPrivateKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { base64url, calculateJwkThumbprint, exportJWK, SignJWT, type JWK, type JWTPayload } from 'jose';
import type { Config } from '../src/config/index.js';
import { GatewayError, type ErrorCode } from '../src/errors.js';
import { hasScope, parseScopeList, requireScope, scopesFromClaims } from '../src/tenancy/scopes.js';
import { DEV_SIGNING_KEY_FILENAME, loadOrCreateDevSigningKey, loadSigningKey, signAccessToken } from '../src/auth/signing.js';
import { createTokenVerifier, type TokenVerifier, type TokenVerifierOptions } from '../src/auth/verify.js';

const SECRET = 'a-test-secret-that-is-comfortably-over-32-bytes';
const ISSUER = 'https://idp.test/';
const AUDIENCE = 'falkordb-mcp-gateway';
const TOLERANCE = 30;
/** The verifier's clock in these tests; tokens are dated relative to it. */
const NOW_MS = Date.UTC(2030, 0, 1, 12, 0, 0);
const NOW = NOW_MS / 1000;

// An Ed25519 key and a self-signed X.509 certificate for it (openssl req -x509), fixed so no openssl is needed here.
const ED25519_JWK = { kty: 'OKP', crv: 'Ed25519', d: '6up64dCBCPEtrqzXSnLi9Ll-4IRgcoLfRAVtP_-4AEQ', x: '3gboz5lrKOZ5YI-s415fjbnN7ttKSuiMFZkvj0iYDbs' };
const ED25519_CERT = `-----BEGIN CERTIFICATE-----
MIIBbTCCAR+gAwIBAgIUHRc90b0MdFGL86jz0jtStqkgddUwBQYDK2VwMCsxKTAn
BgNVBAMMIGZhbGtvcmRiLW1jcC1nYXRld2F5IHRlc3QgaXNzdWVyMCAXDTI2MTEy
MzA5MTM1M1oYDzIxMjYxMDMwMDkxMzUzWjArMSkwJwYDVQQDDCBmYWxrb3JkYi1t
Y3AtZ2F0ZXdheSB0ZXN0IGlzc3VlcjAqMAUGAytlcAMhAN4G6M+ZayjmeWCPrONe
X425ze7bSkrojBWZL49ImA27o1MwUTAdBgNVHQ4EFgQUvag1SVuSWPhgPQ8tar7l
9gkxkqkwHwYDVR0jBBgwFoAUvag1SVuSWPhgPQ8tar7l9gkxkqkwDwYDVR0TAQH/
BAUwAwEB/zAFBgMrZXADQQAV5qFifJPAZ8La1CtXaJhrnswJkllxIMP2WomTjI6o
w4TytxJcWEOKz4BotGjWwIQDwBnD1hz7++LzG6C3IYoK
-----END CERTIFICATE-----
`;

function authConfig(overrides: Partial<Config['auth']> = {}): Config['auth'] {
  return {
    jwtSecret: undefined,
    publicKeyFile: undefined,
    jwksUrl: undefined,
    issuer: ISSUER,
    audience: AUDIENCE,
    tenantClaim: 'sub',
    signingKeyFile: undefined,
    clockToleranceSec: TOLERANCE,
    allowQueryToken: true,
    headerName: 'Authorization',
    devMode: false,
    previousKeysDir: undefined,
    accessTokenTtlSec: 3600,
    refreshTokenTtlSec: 30 * 24 * 3600,
    ...overrides,
  };
}

function verifierFor(overrides: Partial<Config['auth']>, options: Partial<TokenVerifierOptions> = {}): Promise<TokenVerifier> {
  return createTokenVerifier({ auth: authConfig(overrides), now: () => NOW_MS, ...options });
}

/** A token with sensible defaults (tenant acme, read scope, valid for an hour); `undefined` removes a claim. */
function sign(key: KeyObject | Uint8Array, alg: string, claims: JWTPayload = {}, header: Record<string, unknown> = {}): Promise<string> {
  const payload: JWTPayload = { iss: ISSUER, aud: AUDIENCE, sub: 'acme', scope: 'read', iat: NOW, exp: NOW + 3600, ...claims };
  for (const [name, value] of Object.entries(payload)) if (value === undefined) delete payload[name];
  return new SignJWT(payload).setProtectedHeader({ alg, ...header }).sign(key);
}

const secretKey = new TextEncoder().encode(SECRET);
// A claim given as undefined removes the default one (a token without `exp`, without `sub`).
const hs256 = (claims: { [K in keyof JWTPayload]?: JWTPayload[K] | undefined } = {}) => sign(secretKey, 'HS256', claims as JWTPayload);

async function refuses(verifier: TokenVerifier, token: string, code: ErrorCode, message?: RegExp): Promise<GatewayError> {
  let caught: unknown;
  try {
    await verifier.verify(token);
  } catch (error) {
    caught = error;
  }
  assert.ok(caught instanceof GatewayError, `expected a GatewayError ${code}, got ${String(caught)}`);
  assert.equal(caught.code, code, caught.message);
  if (message !== undefined) assert.match(caught.message, message);
  return caught;
}

const tempDirs: string[] = [];
async function tempDir(): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), 'gw-auth-test-'));
  tempDirs.push(dir);
  return dir;
}
async function pemFile(contents: string): Promise<string> {
  const file = path.join(await tempDir(), 'key.pem');
  await writeFile(file, contents);
  return file;
}
after(async () => {
  await Promise.all(tempDirs.map((dir) => rm(dir, { recursive: true, force: true })));
});

const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
const rsaPublicPem = rsa.publicKey.export({ type: 'spki', format: 'pem' }).toString();
const ec = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });

describe('scopes', () => {
  it('expands admin to write and read, and write to read', () => {
    assert.deepEqual(scopesFromClaims({ scope: 'admin' }), ['read', 'write', 'admin']);
    assert.deepEqual(scopesFromClaims({ scope: 'write' }), ['read', 'write']);
    assert.deepEqual(scopesFromClaims({ scope: 'read' }), ['read']);
  });

  it('reads `scp` arrays, `permissions`, and ignores scopes meant for other services', () => {
    assert.deepEqual(scopesFromClaims({ scp: ['openid', 'write'] }), ['read', 'write']);
    assert.deepEqual(scopesFromClaims({ permissions: ['read:billing', 'admin'] }), ['read', 'write', 'admin']);
    assert.deepEqual(scopesFromClaims({ scope: 'openid profile', scp: 'email' }), []);
  });

  it('answers hasScope from the expanded list', () => {
    assert.equal(hasScope({ scopes: ['admin'] }, 'read'), true);
    assert.equal(hasScope({ scopes: ['read'] }, 'write'), false);
    assert.throws(() => requireScope({ scopes: ['read'] }, 'write'), (e: unknown) => e instanceof GatewayError && e.code === 'SCOPE_MISSING' && /"write"/.test(e.message));
  });

  it('parses a typed list and refuses an unknown scope by name', () => {
    assert.deepEqual(parseScopeList('write read'), ['read', 'write']);
    assert.throws(() => parseScopeList('read wirte'), (e: unknown) => e instanceof GatewayError && e.code === 'REQUEST_INVALID' && /"wirte"/.test(e.message));
    assert.throws(() => parseScopeList('  '), (e: unknown) => e instanceof GatewayError && e.code === 'REQUEST_INVALID');
  });
});

describe('verifying HS256 tokens', () => {
  let verifier: TokenVerifier;
  before(async () => {
    verifier = await verifierFor({ jwtSecret: SECRET });
  });

  it('accepts a good token and yields tenant, subject, expanded scopes and expiry', async () => {
    const principal = await verifier.verify(await hs256({ scope: 'openid write', jti: 'j-1' }));
    assert.deepEqual(principal, { tenant: 'acme', subject: 'acme', scopes: ['read', 'write'], expiresAt: NOW + 3600, issuedAt: NOW, jti: 'j-1' });
  });

  it('accepts HS512 with the same secret', async () => {
    assert.equal((await verifier.verify(await sign(secretKey, 'HS512'))).tenant, 'acme');
  });

  it('refuses a missing token and garbage', async () => {
    await refuses(verifier, '', 'TOKEN_MISSING');
    await refuses(verifier, 'not-a-token', 'TOKEN_MALFORMED');
    await refuses(verifier, 'aaaa.bbbb.cccc', 'TOKEN_MALFORMED');
    await refuses(verifier, `${'a'.repeat(20_000)}.b.c`, 'TOKEN_MALFORMED');
  });

  it('refuses a header that is not a JSON object, or whose kid is not text', async () => {
    const encoded = (text: string) => base64url.encode(text);
    const payload = encoded(JSON.stringify({ iss: ISSUER, aud: AUDIENCE, sub: 'acme', exp: NOW + 3600 }));
    for (const header of ['null', '[{"alg":"HS256"}]', '"HS256"', '{"alg":"HS256"', '{"alg":"HS256","kid":7}']) {
      await refuses(verifier, `${encoded(header)}.${payload}.c2ln`, 'TOKEN_MALFORMED');
    }
  });

  it('refuses an unsigned token (alg "none")', async () => {
    const part = (value: object) => base64url.encode(JSON.stringify(value));
    const token = `${part({ alg: 'none', typ: 'JWT' })}.${part({ iss: ISSUER, aud: AUDIENCE, sub: 'acme', exp: NOW + 3600 })}.`;
    await refuses(verifier, token, 'TOKEN_ALGORITHM_REFUSED', /none/);
  });

  it('refuses a token signed with another secret', async () => {
    await refuses(verifier, await sign(new TextEncoder().encode(`${SECRET}-but-different`), 'HS256'), 'TOKEN_SIGNATURE_INVALID');
  });

  it('refuses an expired token and says when it expired', async () => {
    await refuses(verifier, await hs256({ iat: NOW - 7200, exp: NOW - 3600 }), 'TOKEN_EXPIRED', /expired at 2030-01-01T11:00:00\.000Z/);
  });

  it('refuses a token whose nbf is further in the future than the clock tolerance', async () => {
    await refuses(verifier, await hs256({ nbf: NOW + TOLERANCE + 60 }), 'TOKEN_NOT_YET_VALID');
  });

  it('refuses a token issued in the future beyond the clock tolerance', async () => {
    await refuses(verifier, await hs256({ iat: NOW + TOLERANCE + 60 }), 'TOKEN_NOT_YET_VALID');
  });

  it('accepts exp, nbf and iat off by less than the clock tolerance', async () => {
    const principal = await verifier.verify(await hs256({ exp: NOW - TOLERANCE + 5, nbf: NOW + TOLERANCE - 5, iat: NOW + TOLERANCE - 5 }));
    assert.equal(principal.tenant, 'acme');
  });

  it('refuses a token for another audience', async () => {
    await refuses(verifier, await hs256({ aud: 'some-other-service' }), 'TOKEN_AUDIENCE_INVALID');
  });

  it('accepts a token whose audience list includes the gateway', async () => {
    assert.equal((await verifier.verify(await hs256({ aud: ['other', AUDIENCE] }))).tenant, 'acme');
  });

  it('refuses a token from another issuer', async () => {
    await refuses(verifier, await hs256({ iss: 'https://evil.test/' }), 'TOKEN_ISSUER_INVALID');
  });

  it('refuses a token without exp', async () => {
    await refuses(verifier, await hs256({ exp: undefined }), 'TOKEN_CLAIM_INVALID', /"exp"/);
  });

  it('refuses a token without a tenant claim', async () => {
    await refuses(verifier, await hs256({ sub: undefined }), 'TOKEN_TENANT_MISSING');
  });

  it('refuses a token whose tenant claim is empty', async () => {
    await refuses(verifier, await hs256({ sub: '' }), 'TOKEN_TENANT_MISSING');
  });

  it('takes the tenant from AUTH_TENANT_CLAIM when set', async () => {
    const custom = await verifierFor({ jwtSecret: SECRET, tenantClaim: 'org_id' });
    const principal = await custom.verify(await hs256({ sub: 'user-7', org_id: 'widgets' }));
    assert.equal(principal.tenant, 'widgets');
    assert.equal(principal.subject, 'user-7');
    await refuses(custom, await hs256({ sub: 'acme' }), 'TOKEN_TENANT_MISSING', /org_id/);
  });

  it('refuses asymmetric algorithms when only a secret is configured', async () => {
    await refuses(verifier, await sign(rsa.privateKey, 'RS256'), 'TOKEN_ALGORITHM_REFUSED');
  });
});

describe('verifying with AUTH_PUBLIC_KEY_FILE', () => {
  it('accepts an RS256 token checked with a PEM public key', async () => {
    const verifier = await verifierFor({ publicKeyFile: await pemFile(rsaPublicPem) });
    assert.equal((await verifier.verify(await sign(rsa.privateKey, 'RS256'))).tenant, 'acme');
    assert.equal((await verifier.verify(await sign(rsa.privateKey, 'PS384'))).tenant, 'acme');
  });

  it('refuses an HS256 token whose HMAC secret is the RSA public key PEM (key confusion)', async () => {
    const verifier = await verifierFor({ publicKeyFile: await pemFile(rsaPublicPem) });
    const forged = await sign(new TextEncoder().encode(rsaPublicPem), 'HS256', { sub: 'victim' });
    await refuses(verifier, forged, 'TOKEN_ALGORITHM_REFUSED');
  });

  it('refuses an ES256 token when the key is RSA', async () => {
    const verifier = await verifierFor({ publicKeyFile: await pemFile(rsaPublicPem) });
    await refuses(verifier, await sign(ec.privateKey, 'ES256'), 'TOKEN_ALGORITHM_REFUSED');
  });

  it('accepts an EdDSA token checked with an X.509 certificate', async () => {
    const verifier = await verifierFor({ publicKeyFile: await pemFile(ED25519_CERT) });
    const key = createPrivateKey({ key: ED25519_JWK, format: 'jwk' });
    assert.equal((await verifier.verify(await sign(key, 'EdDSA'))).tenant, 'acme');
  });

  it('accepts ES256 with an EC P-256 public key and refuses a token signed by another EC key', async () => {
    const verifier = await verifierFor({ publicKeyFile: await pemFile(ec.publicKey.export({ type: 'spki', format: 'pem' }).toString()) });
    assert.equal((await verifier.verify(await sign(ec.privateKey, 'ES256'))).tenant, 'acme');
    const other = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
    await refuses(verifier, await sign(other.privateKey, 'ES256'), 'TOKEN_SIGNATURE_INVALID');
  });

  it('refuses to start with a private key where the public key belongs', async () => {
    const file = await pemFile(rsa.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString());
    await assert.rejects(verifierFor({ publicKeyFile: file }), (e: unknown) => e instanceof GatewayError && e.code === 'CONFIG_INVALID' && /AUTH_PUBLIC_KEY_FILE/.test(e.message));
  });

  it('refuses to start with no key source at all', async () => {
    await assert.rejects(verifierFor({}), (e: unknown) => e instanceof GatewayError && e.code === 'CONFIG_INVALID');
  });
});

describe('verifying with AUTH_JWKS_URL', () => {
  let server: Server;
  let url: string;
  let fetches = 0;
  let published: JWK[] = [];
  const keyA = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const keyB = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const publicJwk = async (key: KeyObject, kid: string) => ({ ...(await exportJWK(key)), kid });

  before(async () => {
    server = createServer((_req, res) => {
      fetches += 1;
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: published }));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/jwks.json`;
  });
  after(async () => {
    await new Promise((resolve) => server.close(resolve));
  });

  it('accepts a token whose kid appears only after the JWKS changes, by refetching', async () => {
    published = [await publicJwk(keyA.publicKey, 'kid-a')];
    const verifier = await verifierFor({ jwksUrl: url }, { jwks: { cooldownMs: 0 } });
    assert.equal((await verifier.verify(await sign(keyA.privateKey, 'ES256', {}, { kid: 'kid-a' }))).tenant, 'acme');
    const before = fetches;
    published = [...published, await publicJwk(keyB.publicKey, 'kid-b')];
    assert.equal((await verifier.verify(await sign(keyB.privateKey, 'RS256', { sub: 'widgets' }, { kid: 'kid-b' }))).tenant, 'widgets');
    assert.equal(fetches, before + 1);
  });

  it('refuses a kid the JWKS never had', async () => {
    published = [await publicJwk(keyA.publicKey, 'kid-a')];
    const verifier = await verifierFor({ jwksUrl: url }, { jwks: { cooldownMs: 0 } });
    await refuses(verifier, await sign(keyA.privateKey, 'ES256', {}, { kid: 'kid-never' }), 'TOKEN_KEY_UNKNOWN', /kid/);
  });

  it('does not refetch for unknown kids during the cooldown', async () => {
    published = [await publicJwk(keyA.publicKey, 'kid-a')];
    const verifier = await verifierFor({ jwksUrl: url });
    await verifier.verify(await sign(keyA.privateKey, 'ES256', {}, { kid: 'kid-a' }));
    const before = fetches;
    for (let i = 0; i < 5; i += 1) {
      await refuses(verifier, await sign(keyA.privateKey, 'ES256', {}, { kid: `forged-${i}` }), 'TOKEN_KEY_UNKNOWN');
    }
    assert.equal(fetches, before);
  });

  it('says so when the JWKS cannot be reached', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const deadUrl = `http://127.0.0.1:${(closed.address() as AddressInfo).port}/jwks.json`;
    await new Promise((resolve) => closed.close(resolve));
    const verifier = await verifierFor({ jwksUrl: deadUrl });
    await refuses(verifier, await sign(keyA.privateKey, 'ES256', {}, { kid: 'kid-a' }), 'TOKEN_KEY_UNKNOWN', /could not be reached/);
  });

  it('says so when the JWKS does not answer in time', async () => {
    const silent = createServer(() => {});
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    try {
      const silentUrl = `http://127.0.0.1:${(silent.address() as AddressInfo).port}/jwks.json`;
      const verifier = await verifierFor({ jwksUrl: silentUrl }, { jwks: { timeoutMs: 200 } });
      await refuses(verifier, await sign(keyA.privateKey, 'ES256', {}, { kid: 'kid-a' }), 'TOKEN_KEY_UNKNOWN', /did not answer in time/);
    } finally {
      silent.closeAllConnections();
      await new Promise((resolve) => silent.close(resolve));
    }
  });

  it('refuses HMAC tokens when only a JWKS is configured', async () => {
    const verifier = await verifierFor({ jwksUrl: url });
    await refuses(verifier, await hs256(), 'TOKEN_ALGORITHM_REFUSED');
  });
});

describe('the gateway signing its own tokens', () => {
  it('creates the dev signing key once, mode 0600, and reuses it', async () => {
    const dataDir = path.join(await tempDir(), 'data');
    const first = await loadOrCreateDevSigningKey(dataDir);
    const second = await loadOrCreateDevSigningKey(dataDir);
    assert.equal(first.alg, 'ES256');
    assert.equal(second.kid, first.kid);
    assert.equal((await stat(path.join(dataDir, DEV_SIGNING_KEY_FILENAME))).mode & 0o777, 0o600);
  });

  it('uses the RFC 7638 thumbprint of the public key as kid', async () => {
    const key = await loadOrCreateDevSigningKey(await tempDir());
    assert.equal(key.kid, await calculateJwkThumbprint(await exportJWK(key.publicKey.key)));
    assert.deepEqual({ kid: key.publicKey.jwk.kid, alg: key.publicKey.jwk.alg }, { kid: key.kid, alg: 'ES256' });
  });

  it('derives the algorithm of AUTH_SIGNING_KEY_FILE from the key', async () => {
    assert.equal((await loadSigningKey(await pemFile(rsa.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString()))).alg, 'RS256');
    const ed = createPrivateKey({ key: ED25519_JWK, format: 'jwk' }).export({ type: 'pkcs8', format: 'pem' }).toString();
    assert.equal((await loadSigningKey(await pemFile(ed))).alg, 'EdDSA');
  });

  it('issues tokens that verify through ownKeys, with the tenant in sub and the tenant claim', async () => {
    const key = await loadOrCreateDevSigningKey(await tempDir());
    const auth = authConfig({ tenantClaim: 'org_id' });
    const verifier = await createTokenVerifier({ auth, ownKeys: [key.publicKey], now: () => NOW_MS });
    assert.equal(verifier.hasOwnKeys, true);
    const token = await signAccessToken(key, { tenant: 'acme', scopes: ['write'], ttlSeconds: 600, device: 'laptop', jti: 'j-9' }, { ...auth, now: () => NOW_MS });
    assert.deepEqual(await verifier.verify(token), { tenant: 'acme', subject: 'acme', scopes: ['read', 'write'], expiresAt: NOW + 600, issuedAt: NOW, jti: 'j-9', device: 'laptop' });
  });

  it('refuses a token signed by a gateway key it does not know', async () => {
    const auth = authConfig();
    const mine = await loadOrCreateDevSigningKey(await tempDir());
    const stranger = await loadOrCreateDevSigningKey(await tempDir());
    const verifier = await createTokenVerifier({ auth, ownKeys: [mine.publicKey], now: () => NOW_MS });
    const token = await signAccessToken(stranger, { tenant: 'acme', scopes: ['read'], ttlSeconds: 600 }, { ...auth, now: () => NOW_MS });
    await refuses(verifier, token, 'TOKEN_KEY_UNKNOWN');
  });
});

describe('the verified-token cache', () => {
  it('never returns a principal whose token has expired since it was cached', async () => {
    let clock = NOW_MS;
    const verifier = await createTokenVerifier({ auth: authConfig({ jwtSecret: SECRET, clockToleranceSec: 0 }), now: () => clock, cacheMaxAgeMs: 3_600_000 });
    const token = await hs256({ exp: NOW + 10 });
    assert.equal((await verifier.verify(token)).tenant, 'acme');
    clock = NOW_MS + 11_000;
    await refuses(verifier, token, 'TOKEN_EXPIRED');
  });

  it('serves a cached token without verifying it again', async () => {
    let clock = NOW_MS;
    const verifier = await createTokenVerifier({ auth: authConfig({ jwtSecret: SECRET, clockToleranceSec: 0 }), now: () => clock });
    const token = await hs256({ nbf: NOW });
    const first = await verifier.verify(token);
    // Before nbf a fresh verification would fail, so only the cache can answer.
    clock = NOW_MS - 5_000;
    assert.equal(await verifier.verify(token), first);
  });
});

describe('error messages', () => {
  it('never contain the token', async () => {
    const verifier = await verifierFor({ jwtSecret: SECRET });
    const failing = [
      await hs256({ exp: NOW - 3600 }),
      await hs256({ aud: 'other' }),
      await hs256({ iss: 'other' }),
      await hs256({ sub: undefined }),
      await hs256({ exp: undefined }),
      await sign(new TextEncoder().encode(`${SECRET}-wrong`), 'HS256'),
      await sign(rsa.privateKey, 'RS256'),
      'x.y.z',
    ];
    for (const token of failing) {
      const error: unknown = await verifier.verify(token).then(() => undefined, (e: unknown) => e);
      assert.ok(error instanceof GatewayError, 'the token should have been refused');
      for (const text of [error.message, JSON.stringify(error.details), String(error.stack)]) {
        assert.ok(!text.includes(token), `${error.code} message contains the token`);
        const signature = token.split('.')[2] ?? '';
        if (signature.length > 8) assert.ok(!text.includes(signature), `${error.code} message contains the signature`);
      }
    }
  });
});
