// The verified-token cache on its own: a token is served from it only when it
// is, byte for byte, the token that was verified.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { SignJWT } from 'jose';
import type { Config } from '../config/index.js';
import { GatewayError } from '../errors.js';
import { createTokenVerifier, type TokenVerifier } from './verify.js';

const SECRET = 'a-test-secret-that-is-comfortably-over-32-bytes';
const ISSUER = 'https://idp.test/';
const AUDIENCE = 'falkordb-mcp-gateway';
const NOW_MS = Date.UTC(2030, 0, 1, 12, 0, 0);
const NOW = NOW_MS / 1000;

const auth = {
  jwtSecret: SECRET,
  publicKeyFile: undefined,
  jwksUrl: undefined,
  issuer: ISSUER,
  audience: AUDIENCE,
  tenantClaim: 'sub',
  signingKeyFile: undefined,
  clockToleranceSec: 0,
  allowQueryToken: true,
  headerName: 'Authorization',
  devMode: false,
  previousKeysDir: undefined,
  accessTokenTtlSec: 3600,
  refreshTokenTtlSec: 3600,
} satisfies Config['auth'];

const payloadOf = (tenant: string) => ({ iss: ISSUER, aud: AUDIENCE, sub: tenant, scope: 'read', iat: NOW, exp: NOW + 3600 });

function sign(tenant: string): Promise<string> {
  return new SignJWT(payloadOf(tenant)).setProtectedHeader({ alg: 'HS256' }).sign(new TextEncoder().encode(SECRET));
}

const base64url = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');

/** `token`'s payload part swapped for `payload`, its header and signature kept. */
function withPayload(token: string, payload: object): string {
  const [header, , signature] = token.split('.');
  return `${header}.${base64url(payload)}.${signature}`;
}

/** `token` with the character at `index` replaced by another base64url character. */
function withCharChanged(token: string, index: number): string {
  const other = token[index] === 'A' ? 'B' : 'A';
  return `${token.slice(0, index)}${other}${token.slice(index + 1)}`;
}

async function refusal(verifier: TokenVerifier, token: string): Promise<string | undefined> {
  return verifier.verify(token).then(
    () => undefined,
    (error: unknown) => (error instanceof GatewayError ? error.code : String(error)),
  );
}

describe('the verified-token cache', () => {
  it("never serves a token's result to a token that differs from it in one byte of the payload", async () => {
    const verifier = await createTokenVerifier({ auth, now: () => NOW_MS });
    const acme = await sign('acme');
    assert.equal((await verifier.verify(acme)).tenant, 'acme');
    // The same header and signature; the payload names `acmf`, one byte away from `acme`.
    const forged = withPayload(acme, payloadOf('acmf'));
    assert.notEqual(forged, acme);
    assert.equal(forged.split('.')[1]!.length, acme.split('.')[1]!.length);
    assert.equal(verifier.known?.(forged), undefined);
    assert.equal(await refusal(verifier, forged), 'TOKEN_SIGNATURE_INVALID');
    // The real token is still served, and still as acme.
    assert.equal((await verifier.verify(acme)).tenant, 'acme');
    assert.equal(verifier.known?.(acme)?.tenant, 'acme');
  });

  it("never serves a token's result to a token that differs from it in one byte of the signature", async () => {
    const verifier = await createTokenVerifier({ auth, now: () => NOW_MS });
    const acme = await sign('acme');
    await verifier.verify(acme);
    const dot = acme.lastIndexOf('.');
    for (const index of [dot + 1, dot + 10, acme.length - 2]) {
      const forged = withCharChanged(acme, index);
      assert.equal(verifier.known?.(forged), undefined, `signature character ${index - dot}`);
      assert.notEqual(await refusal(verifier, forged), undefined, `signature character ${index - dot}`);
    }
  });

  it('keeps two verified tokens apart, each served its own tenant', async () => {
    const verifier = await createTokenVerifier({ auth, now: () => NOW_MS });
    const [acme, acmf] = await Promise.all([sign('acme'), sign('acmf')]);
    assert.equal((await verifier.verify(acme)).tenant, 'acme');
    assert.equal((await verifier.verify(acmf)).tenant, 'acmf');
    assert.equal(verifier.known?.(acme)?.tenant, 'acme');
    assert.equal(verifier.known?.(acmf)?.tenant, 'acmf');
    assert.equal((await verifier.verify(acme)).tenant, 'acme');
  });

  it('does not serve a token without its signature part from the cache', async () => {
    const verifier = await createTokenVerifier({ auth, now: () => NOW_MS });
    const acme = await sign('acme');
    await verifier.verify(acme);
    const unsigned = acme.slice(0, acme.lastIndexOf('.') + 1);
    assert.equal(verifier.known?.(unsigned), undefined);
    assert.notEqual(await refusal(verifier, unsigned), undefined);
  });
});
