// How the shared state names a public key: its RFC 7638 thumbprint, the kid
// kept for a tenant's PEM key and announced for a gateway's own keys.

import type { KeyObject } from 'node:crypto';
import { calculateJwkThumbprint, exportJWK } from 'jose';

/** RFC 7638 thumbprint of a PEM public key: the kid the registry keeps for it. */
export async function publicKeyThumbprint(key: KeyObject): Promise<string> {
  return calculateJwkThumbprint(await exportJWK(key), 'sha256');
}
