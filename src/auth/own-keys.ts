// The gateway's own keys: the one it signs with (AUTH_SIGNING_KEY_FILE, or the
// dev key in the data folder) and the earlier ones that still verify
// (AUTH_PREVIOUS_KEYS_DIR), as the server and the CLI both need them.

import { access } from 'node:fs/promises';
import path from 'node:path';
import type { Config } from '../config/index.js';
import { DEV_SIGNING_KEY_FILENAME, loadOrCreateDevSigningKey, loadPreviousKeys, loadSigningKey, type PublicSigningKey, type SigningKey } from './signing.js';

export interface OwnKeys {
  /** Undefined when the gateway does not sign tokens (only an IdP or shared secret verifies). */
  signingKey: SigningKey | undefined;
  /** Every public key the gateway's own tokens may carry: current first, then previous ones. */
  verifying: PublicSigningKey[];
}

export interface OwnKeyOptions {
  /**
   * In dev mode, make the dev key when the data folder has none. Only `serve` does:
   * a key the CLI made would sign tokens that no gateway accepts (one running with
   * AUTH_SIGNING_KEY_FILE on that folder, or none at all), so the CLI uses the key
   * a dev-mode gateway made, or has none.
   */
  createDevKey?: boolean;
}

async function exists(file: string): Promise<boolean> {
  return access(file).then(
    () => true,
    () => false,
  );
}

export async function loadOwnKeys(config: Config, { createDevKey = true }: OwnKeyOptions = {}): Promise<OwnKeys> {
  let signingKey: SigningKey | undefined;
  if (config.auth.signingKeyFile !== undefined) signingKey = await loadSigningKey(config.auth.signingKeyFile);
  else if (config.auth.devMode && (createDevKey || (await exists(devSigningKeyPath(config))))) signingKey = await loadOrCreateDevSigningKey(config.falkordb.dataDir);
  const previous = config.auth.previousKeysDir === undefined ? [] : await loadPreviousKeys(config.auth.previousKeysDir);
  const verifying = [...(signingKey ? [signingKey.publicKey] : []), ...previous.filter((k) => k.kid !== signingKey?.kid)];
  return { signingKey, verifying };
}

/** Where dev mode keeps its key. */
export function devSigningKeyPath(config: Config): string {
  return path.join(config.falkordb.dataDir, DEV_SIGNING_KEY_FILENAME);
}
