// Key files for tests: the gateway's signing key, and tenants' own keys.

import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { mkdtemp, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

export async function tempDir(prefix = 'gateway-test-'): Promise<string> {
  return mkdtemp(path.join(os.tmpdir(), prefix));
}

/** Writes a fresh ES256 private key as PEM into `dir/name` and returns its path. */
export async function writeSigningKey(dir: string, name = 'signing.pem'): Promise<string> {
  const file = path.join(dir, name);
  const pem = generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).privateKey.export({ type: 'pkcs8', format: 'pem' });
  await writeFile(file, pem, { mode: 0o600 });
  return file;
}

/** An EC P-256 key pair, with the public half as PEM (what `tenant add --public-key` stores). */
export function ecKeyPair(): { privateKey: KeyObject; publicKey: KeyObject; publicPem: string } {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  return { privateKey, publicKey, publicPem: publicKey.export({ type: 'spki', format: 'pem' }).toString() };
}
