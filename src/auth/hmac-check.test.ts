import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SignJWT } from 'jose';
import { hmacSignatureMatches } from './hmac-check.js';

const secret = new TextEncoder().encode('a-shared-secret-of-enough-length-0123456789');
const other = new TextEncoder().encode('another-shared-secret-of-enough-length-01234');

async function signed(alg: string, key: Uint8Array): Promise<string> {
  return new SignJWT({ sub: 'x', tenant: 'acme' }).setProtectedHeader({ alg }).setExpirationTime('1h').sign(key);
}

test('a token signed with the secret matches, for each HMAC algorithm', async () => {
  for (const alg of ['HS256', 'HS384', 'HS512']) assert.equal(hmacSignatureMatches(await signed(alg, secret), alg, secret), true, alg);
});

test('a token signed with another secret, or with its payload changed, does not match', async () => {
  for (const alg of ['HS256', 'HS384', 'HS512']) {
    const token = await signed(alg, other);
    assert.equal(hmacSignatureMatches(token, alg, secret), false, alg);
    const good = await signed(alg, secret);
    const [h, , s] = good.split('.');
    const tampered = `${h}.${Buffer.from('{"sub":"y","tenant":"acme"}').toString('base64url')}.${s}`;
    assert.equal(hmacSignatureMatches(tampered, alg, secret), false, `${alg} tampered payload`);
  }
});

test('a signature of the wrong length or an empty one does not match', async () => {
  const good = await signed('HS256', secret);
  const cut = good.slice(0, -4);
  assert.equal(hmacSignatureMatches(cut, 'HS256', secret), false);
  assert.equal(hmacSignatureMatches(good.slice(0, good.lastIndexOf('.') + 1), 'HS256', secret), false);
  // An HS512 signature under an HS256 header: another length.
  const long = await signed('HS512', secret);
  const [h] = good.split('.');
  const [, p, s] = long.split('.');
  assert.equal(hmacSignatureMatches(`${h}.${p}.${s}`, 'HS256', secret), false);
});

test('what is not an HMAC algorithm or not three parts is left for jose to judge', async () => {
  const good = await signed('HS256', secret);
  assert.equal(hmacSignatureMatches(good, 'RS256', secret), undefined);
  assert.equal(hmacSignatureMatches(good, 'none', secret), undefined);
  assert.equal(hmacSignatureMatches('a.b', 'HS256', secret), undefined);
  assert.equal(hmacSignatureMatches(`${good}.x`, 'HS256', secret), undefined);
  assert.equal(hmacSignatureMatches('.b.c', 'HS256', secret), undefined);
});
