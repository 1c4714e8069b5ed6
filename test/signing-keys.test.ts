// Signing key rotation as an operator does it: `keys generate` writes a usable key
// pair, AUTH_PREVIOUS_KEYS_DIR keeps tokens of earlier keys verifying until removed.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { readPublicKeyFile } from '../src/auth/keys.js';
import { GENERATED_KEY_ALGORITHMS, generateSigningKeyPair, loadPreviousKeys, loadSigningKey, signAccessToken } from '../src/auth/signing.js';
import { createTokenVerifier } from '../src/auth/verify.js';
import { loadConfig } from '../src/config/index.js';
import { rejection } from './support/assertions.js';
import { runCli } from './support/cli.js';

let root: string;
let folderCount = 0;
before(async () => {
  root = await mkdtemp(path.join(os.tmpdir(), 'gw-keys-'));
});
after(async () => {
  await rm(root, { recursive: true, force: true });
});

async function newFolder(): Promise<string> {
  const dir = path.join(root, `d${++folderCount}`);
  await mkdir(dir);
  return dir;
}

async function mode(file: string): Promise<number> {
  return (await stat(file)).mode & 0o777;
}

describe('keys generate', () => {
  for (const alg of GENERATED_KEY_ALGORITHMS) {
    it(`writes a usable ${alg} key pair and prints its kid, never the private key`, async () => {
      const out = path.join(await newFolder(), 'signing.pem');
      const result = await runCli(['keys', 'generate', '--alg', alg, '--out', out], {});
      assert.equal(result.code, 0, result.stderr);
      const kid = /^kid:\s+(\S+)$/m.exec(result.stdout)?.[1];
      const key = await loadSigningKey(out);
      assert.deepEqual({ alg: key.alg, kid: key.kid }, { alg, kid });
      const publicFile = path.join(path.dirname(out), 'signing.pub.pem');
      const { key: publicKey } = await readPublicKeyFile(publicFile, 'AUTH_PUBLIC_KEY_FILE');
      assert.ok(publicKey.equals(key.publicKey.key));
      assert.ok(result.stdout.includes(out) && result.stdout.includes(publicFile));
      assert.ok(result.stdout.includes(`AUTH_SIGNING_KEY_FILE=${out}`));
      assert.ok(!result.stdout.includes('PRIVATE KEY') && !result.stderr.includes('PRIVATE KEY'));
    });
  }

  it('makes an ES256 key when no --alg is given', async () => {
    const out = path.join(await newFolder(), 'signing.pem');
    assert.equal((await runCli(['keys', 'generate', '--out', out], {})).code, 0);
    assert.equal((await loadSigningKey(out)).alg, 'ES256');
  });

  it('writes the private key readable by its owner only (0600) and the public key 0644', async () => {
    const dir = await newFolder();
    assert.equal((await runCli(['keys', 'generate', '--out', path.join(dir, 'k.pem')], {})).code, 0);
    assert.equal(await mode(path.join(dir, 'k.pem')), 0o600);
    assert.equal(await mode(path.join(dir, 'k.pub.pem')), 0o644);
  });

  it('refuses to overwrite an existing key without --force, and says so', async () => {
    const out = path.join(await newFolder(), 'signing.pem');
    await writeFile(out, 'the old key', { mode: 0o600 });
    const refused = await runCli(['keys', 'generate', '--out', out], {});
    assert.equal(refused.code, 2);
    assert.match(refused.stderr, /^falkordb-mcp-gateway: .*signing\.pem already exists; .*--force[^\n]*\n$/);
    assert.equal(await readFile(out, 'utf8'), 'the old key');
    await assert.rejects(stat(path.join(path.dirname(out), 'signing.pub.pem')), { code: 'ENOENT' });
  });

  it('replaces an existing key with --force, still mode 0600', async () => {
    const out = path.join(await newFolder(), 'signing.pem');
    await writeFile(out, 'the old key', { mode: 0o644 });
    assert.equal((await runCli(['keys', 'generate', '--out', out, '--force'], {})).code, 0);
    assert.equal((await loadSigningKey(out)).alg, 'ES256');
    assert.equal(await mode(out), 0o600);
  });

  it('refuses an unknown --alg with exit code 2 and one line listing the choices', async () => {
    const out = path.join(await newFolder(), 'signing.pem');
    const result = await runCli(['keys', 'generate', '--alg', 'HS256', '--out', out], {});
    assert.equal(result.code, 2);
    assert.match(result.stderr, /^falkordb-mcp-gateway: --alg "HS256" [^\n]*ES256, RS256, EdDSA[^\n]*\n$/);
    await assert.rejects(stat(out), { code: 'ENOENT' });
  });

  it('exits 2 when --out is missing', async () => {
    const result = await runCli(['keys', 'generate'], {});
    assert.equal(result.code, 2);
    assert.match(result.stderr, /--out/);
  });
});

describe('previous signing keys (AUTH_PREVIOUS_KEYS_DIR)', () => {
  it('loads private and public PEM files by name, with the kid and alg of the signing key', async () => {
    const dir = await newFolder();
    const es = await generateSigningKeyPair('ES256');
    const ed = await generateSigningKeyPair('EdDSA');
    await writeFile(path.join(dir, 'b-private.pem'), es.privatePem);
    await writeFile(path.join(dir, 'a-public.pem'), ed.publicPem);
    await writeFile(path.join(dir, 'notes.txt'), 'not a key, and not read');
    await mkdir(path.join(dir, 'folder.pem'));
    const keys = await loadPreviousKeys(dir);
    assert.deepEqual(
      keys.map((k) => [k.kid, k.alg, k.jwk.kid, k.jwk.alg, k.jwk.use]),
      [
        [ed.kid, 'EdDSA', ed.kid, 'EdDSA', 'sig'],
        [es.kid, 'ES256', es.kid, 'ES256', 'sig'],
      ],
    );
    assert.equal(keys[1]!.key.type, 'public');
    assert.equal(keys[1]!.jwk.d, undefined);
    assert.equal(keys[1]!.kid, (await loadSigningKey(path.join(dir, 'b-private.pem'))).kid);
  });

  it('gives no keys for an empty folder', async () => {
    assert.deepEqual(await loadPreviousKeys(await newFolder()), []);
  });

  it('lists a key kept both as private and public file once', async () => {
    const dir = await newFolder();
    const pair = await generateSigningKeyPair('RS256');
    await writeFile(path.join(dir, 'old.pem'), pair.privatePem);
    await writeFile(path.join(dir, 'old.pub.pem'), pair.publicPem);
    assert.deepEqual((await loadPreviousKeys(dir)).map((k) => k.kid), [pair.kid]);
  });

  it('names AUTH_PREVIOUS_KEYS_DIR and the reason when the folder is missing', async () => {
    const error = await rejection(loadPreviousKeys(path.join(root, 'no-such-folder')));
    assert.equal(error.code, 'CONFIG_INVALID');
    assert.match(error.message, /^AUTH_PREVIOUS_KEYS_DIR .*no-such-folder.*\(ENOENT\)/);
  });

  it('names the file that is not a key', async () => {
    const dir = await newFolder();
    await writeFile(path.join(dir, 'good.pem'), (await generateSigningKeyPair('ES256')).publicPem);
    await writeFile(path.join(dir, 'broken.pem'), '-----BEGIN PUBLIC KEY-----\nnot base64\n-----END PUBLIC KEY-----\n');
    const error = await rejection(loadPreviousKeys(dir));
    assert.equal(error.code, 'CONFIG_INVALID');
    assert.match(error.message, /AUTH_PREVIOUS_KEYS_DIR .*broken\.pem\)/);
  });

  it('keeps tokens of an earlier key verifying until that key is removed', async () => {
    const dir = await newFolder();
    const keysDir = path.join(dir, 'previous');
    await mkdir(keysDir);
    const old = await generateSigningKeyPair('ES256');
    await writeFile(path.join(dir, 'old.pem'), old.privatePem);
    await writeFile(path.join(keysDir, 'old.pub.pem'), old.publicPem);
    const current = await generateSigningKeyPair('ES256');
    await writeFile(path.join(dir, 'current.pem'), current.privatePem);

    const auth = loadConfig({ AUTH_SIGNING_KEY_FILE: path.join(dir, 'current.pem'), AUTH_PREVIOUS_KEYS_DIR: keysDir }).auth;
    const currentKey = await loadSigningKey(path.join(dir, 'current.pem'));
    const token = await signAccessToken(await loadSigningKey(path.join(dir, 'old.pem')), { tenant: 'acme', scopes: ['read'], ttlSeconds: 600 }, auth);

    const rotated = await createTokenVerifier({ auth, ownKeys: [currentKey.publicKey, ...(await loadPreviousKeys(auth.previousKeysDir!))], cacheSize: 0 });
    assert.equal((await rotated.verify(token)).tenant, 'acme');

    await rm(path.join(keysDir, 'old.pub.pem'));
    const retired = await createTokenVerifier({ auth, ownKeys: [currentKey.publicKey, ...(await loadPreviousKeys(keysDir))], cacheSize: 0 });
    assert.equal((await rejection(retired.verify(token))).code, 'TOKEN_KEY_UNKNOWN');
  });
});
