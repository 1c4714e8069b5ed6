// The gateway's own keys: the one it signs with (AUTH_SIGNING_KEY_FILE, or the
// dev key in the data folder) and the earlier ones that still verify
// (AUTH_PREVIOUS_KEYS_DIR), as the server and the CLI both need them.

import type { Config } from '../config.js';
import { loadOrCreateDevSigningKey, loadPreviousKeys, loadSigningKey, type PublicSigningKey, type SigningKey } from './signing.js';

export interface OwnKeys {
  /** Undefined when the gateway does not sign tokens (only an IdP or shared secret verifies). */
  signingKey: SigningKey | undefined;
  /** Every public key the gateway's own tokens may carry: current first, then previous ones. */
  verifying: PublicSigningKey[];
}

export async function loadOwnKeys(config: Config): Promise<OwnKeys> {
  let signingKey: SigningKey | undefined;
  if (config.auth.signingKeyFile !== undefined) signingKey = await loadSigningKey(config.auth.signingKeyFile);
  else if (config.auth.devMode) signingKey = await loadOrCreateDevSigningKey(config.falkordb.dataDir);
  const previous = config.auth.previousKeysDir === undefined ? [] : await loadPreviousKeys(config.auth.previousKeysDir);
  const verifying = [...(signingKey ? [signingKey.publicKey] : []), ...previous.filter((k) => k.kid !== signingKey?.kid)];
  return { signingKey, verifying };
}
