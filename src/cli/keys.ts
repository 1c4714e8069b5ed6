// `keys generate`: a new signing key pair for AUTH_SIGNING_KEY_FILE, the
// private key written so only its owner can read it, and never printed.

import type { Command } from 'commander';
import { chmod, link, rename, unlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { GENERATED_KEY_ALGORITHMS, generateSigningKeyPair, type GeneratedKeyAlgorithm } from '../auth/signing.js';
import { GatewayError } from '../errors.js';
import { printLines } from './output.js';
import { runCommand } from './run.js';

interface GenerateOptions {
  alg: string;
  out: string;
  force?: boolean;
}

function keyAlgorithm(text: string): GeneratedKeyAlgorithm {
  const alg = GENERATED_KEY_ALGORITHMS.find((a) => a.toLowerCase() === text.trim().toLowerCase());
  if (alg === undefined) {
    throw new GatewayError('REQUEST_INVALID', `--alg ${JSON.stringify(text.slice(0, 20))} is not one the gateway generates; choose ${GENERATED_KEY_ALGORITHMS.join(', ')}.`);
  }
  return alg;
}

/** `signing.pem` → `signing.pub.pem`, so the public half sits beside the private key under an obvious name. */
export function publicKeyPath(privatePath: string): string {
  return `${privatePath.replace(/\.pem$/i, '')}.pub.pem`;
}

/**
 * Writes `content` to `file` with exactly `mode` (whatever the umask), whole or not at all:
 * a temp file beside it is linked into place (failing if `file` exists) or, with force, renamed over it.
 */
async function writeKeyFile(file: string, content: string, mode: number, force: boolean): Promise<void> {
  const temp = path.join(path.dirname(file), `.${path.basename(file)}.${randomUUID()}.tmp`);
  try {
    await writeFile(temp, content, { mode, flag: 'wx' });
    await chmod(temp, mode);
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code ?? 'unwritable';
    await unlink(temp).catch(() => undefined);
    throw new GatewayError('REQUEST_INVALID', `Cannot write ${file} (${reason}); choose an --out in an existing folder you can write to.`);
  }
  try {
    if (force) await rename(temp, file);
    else await link(temp, file);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw code === 'EEXIST' ? exists(file) : new GatewayError('REQUEST_INVALID', `Cannot write ${file} (${code ?? 'unwritable'}).`);
  } finally {
    await unlink(temp).catch(() => undefined);
  }
}

function exists(file: string): GatewayError {
  return new GatewayError('REQUEST_INVALID', `${file} already exists; choose another --out, or pass --force to replace it (tokens the old key signed then stop verifying unless it is in AUTH_PREVIOUS_KEYS_DIR).`);
}

async function generate(options: GenerateOptions): Promise<void> {
  const alg = keyAlgorithm(options.alg);
  const privateFile = path.resolve(options.out);
  const publicFile = publicKeyPath(privateFile);
  const force = options.force === true;
  const pair = await generateSigningKeyPair(alg);
  // The public file first: if it is refused, no private key is left behind without its public half.
  await writeKeyFile(publicFile, pair.publicPem, 0o644, force);
  try {
    await writeKeyFile(privateFile, pair.privatePem, 0o600, force);
  } catch (error) {
    await unlink(publicFile).catch(() => undefined);
    throw error;
  }
  printLines(
    `Generated an ${alg} signing key.`,
    `kid:         ${pair.kid}`,
    `private key: ${privateFile} (mode 0600; keep it secret)`,
    `public key:  ${publicFile}`,
    '',
    'Next: start the gateway with',
    `  AUTH_SIGNING_KEY_FILE=${privateFile}`,
    'When rotating, put the old key (or its .pub.pem) in AUTH_PREVIOUS_KEYS_DIR so tokens it signed keep verifying until they expire.',
  );
}

export function registerKeysCommand(program: Command): void {
  const keys = program.command('keys').description('Signing keys for the tokens the gateway issues itself.');
  keys
    .command('generate')
    .description('Write a new signing key pair: the private key to --out (mode 0600) and the public key beside it as <name>.pub.pem (mode 0644).')
    .requiredOption('--out <file>', 'where to write the private key, e.g. signing.pem')
    .option('--alg <alg>', `signing algorithm: ${GENERATED_KEY_ALGORITHMS.join(', ')}`, 'ES256')
    .option('--force', 'overwrite existing key files')
    .action((options: GenerateOptions) => runCommand(() => generate(options)));
}
