// Reads PEM key files and derives, from the key itself, which JWS algorithms it
// may be used with, so a configured key can never be used with a foreign alg.

import { createPrivateKey, createPublicKey, X509Certificate, type KeyObject } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { GatewayError } from '../errors.js';

export const HMAC_ALGORITHMS = Object.freeze(['HS256', 'HS384', 'HS512']);
const RSA_ALGORITHMS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512'];
const PSS_ALGORITHMS = ['PS256', 'PS384', 'PS512'];
/** What a JWKS key may be used with; never an HMAC alg, since a JWKS is public. */
export const ASYMMETRIC_ALGORITHMS = Object.freeze([...RSA_ALGORITHMS, 'ES256', 'ES384', 'ES512', 'EdDSA', 'Ed25519']);

const EC_CURVES: Readonly<Record<string, string>> = { prime256v1: 'ES256', secp384r1: 'ES384', secp521r1: 'ES512' };

function keyProblem(variable: string, file: string, problem: string): GatewayError {
  return new GatewayError('CONFIG_INVALID', `${variable} (${file}) ${problem}`, { variable });
}

/**
 * The algorithms a public key verifies, following its type and curve; undefined
 * for a key type the gateway does not accept.
 */
export function verifyAlgorithmsFor(key: KeyObject): readonly string[] | undefined {
  const details = key.asymmetricKeyDetails ?? {};
  switch (key.asymmetricKeyType) {
    case 'rsa':
      return RSA_ALGORITHMS;
    case 'rsa-pss':
      return PSS_ALGORITHMS;
    case 'ec':
      return details.namedCurve !== undefined && EC_CURVES[details.namedCurve] !== undefined ? [EC_CURVES[details.namedCurve]!] : undefined;
    case 'ed25519':
      return ['EdDSA', 'Ed25519'];
    default:
      return undefined;
  }
}

/** The one algorithm the gateway signs with for a private key of this type. */
export function signingAlgorithmFor(key: KeyObject): string | undefined {
  const verify = verifyAlgorithmsFor(key);
  if (verify === undefined) return undefined;
  if (key.asymmetricKeyType === 'rsa') return 'RS256';
  if (key.asymmetricKeyType === 'rsa-pss') return 'PS256';
  return verify[0];
}

function checkKeyStrength(key: KeyObject, variable: string, file: string): void {
  const bits = key.asymmetricKeyDetails?.modulusLength;
  if (bits !== undefined && bits < 2048) {
    throw keyProblem(variable, file, `is a ${bits}-bit RSA key; RSA keys must be at least 2048 bits.`);
  }
}

const ACCEPTED = 'RSA (2048 bits or more), EC P-256/P-384/P-521 or Ed25519';

async function readPem(file: string, variable: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code ?? 'unreadable';
    throw keyProblem(variable, file, `cannot be read (${reason}); check the path and its permissions.`);
  }
}

const PRIVATE_KEY_PEM = /-----BEGIN [A-Z ]*PRIVATE KEY-----/;

function parsePublicKey(pem: string, variable: string, file: string, notAKey: string): { key: KeyObject; algorithms: readonly string[] } {
  let key: KeyObject;
  try {
    key = pem.includes('-----BEGIN CERTIFICATE-----') ? new X509Certificate(pem).publicKey : createPublicKey(pem);
  } catch {
    throw keyProblem(variable, file, notAKey);
  }
  const algorithms = verifyAlgorithmsFor(key);
  if (algorithms === undefined) throw keyProblem(variable, file, `holds a key type the gateway does not accept; use ${ACCEPTED}.`);
  checkKeyStrength(key, variable, file);
  return { key, algorithms };
}

function parsePrivateKey(pem: string, variable: string, file: string): { key: KeyObject; algorithm: string } {
  let key: KeyObject;
  try {
    key = createPrivateKey(pem);
  } catch {
    throw keyProblem(variable, file, 'is not an unencrypted PEM private key (-----BEGIN PRIVATE KEY-----).');
  }
  const algorithm = signingAlgorithmFor(key);
  if (algorithm === undefined) throw keyProblem(variable, file, `holds a key type the gateway cannot sign with; use ${ACCEPTED}.`);
  checkKeyStrength(key, variable, file);
  return { key, algorithm };
}

/** A PEM SPKI public key or X.509 certificate, with the algorithms it verifies. */
export async function readPublicKeyFile(file: string, variable: string): Promise<{ key: KeyObject; algorithms: readonly string[] }> {
  const pem = await readPem(file, variable);
  // A private key would work (Node derives the public half) but means a secret sits where a public file was expected.
  if (PRIVATE_KEY_PEM.test(pem)) {
    throw keyProblem(variable, file, 'holds a private key; give the public key instead (openssl pkey -in key.pem -pubout).');
  }
  return parsePublicKey(pem, variable, file, 'is not a PEM public key (-----BEGIN PUBLIC KEY-----) or X.509 certificate.');
}

/** A PEM private key (PKCS#8, or the older PKCS#1/SEC1 forms) and the algorithm it signs with. */
export async function readPrivateKeyFile(file: string, variable: string): Promise<{ key: KeyObject; algorithm: string }> {
  return parsePrivateKey(await readPem(file, variable), variable, file);
}

/**
 * A key the gateway signed with, from a PEM private key, public key or certificate (an
 * operator may keep either after rotating): its public key and the algorithm it signed with.
 */
export async function readKeyFileAsPublic(file: string, variable: string): Promise<{ key: KeyObject; algorithm: string }> {
  const pem = await readPem(file, variable);
  if (PRIVATE_KEY_PEM.test(pem)) {
    const { key, algorithm } = parsePrivateKey(pem, variable, file);
    return { key: createPublicKey(key), algorithm };
  }
  const { key } = parsePublicKey(pem, variable, file, 'is not a PEM private key, public key or X.509 certificate.');
  // parsePublicKey refused every key type without a signing algorithm.
  return { key, algorithm: signingAlgorithmFor(key)! };
}
