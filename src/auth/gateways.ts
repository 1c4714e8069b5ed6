// Running gateway instances announce, in the shared state, what tokens they
// accept (their own keys' kids, issuer, audience, tenant claim), renewed while
// they run. The CLI reads it from the same database to refuse minting tokens
// no running instance would accept, and `doctor` to say what differs.

import { randomUUID } from 'node:crypto';
import os from 'node:os';
import { z } from 'zod';
import type { Config } from '../config/index.js';
import { publicKeyThumbprint } from '../state/key-thumbprint.js';
import { parseRecord } from '../state/records.js';
import { stateKeys } from '../state/keys.js';
import type { StateStore } from '../state/store.js';
import { readPublicKeyFile } from './keys.js';
import type { OwnKeys } from './own-keys.js';

/** What one running instance accepts; nothing secret (kids are public-key thumbprints). */
export const GatewayPresenceSchema = z.object({
  instance: z.string(),
  host: z.string(),
  pid: z.number(),
  version: z.string(),
  /** Its base URL, e.g. http://127.0.0.1:3003 */
  url: z.string(),
  /** Epoch ms. */
  startedAt: z.number(),
  devMode: z.boolean(),
  /** The kid it signs its own tokens with (AUTH_SIGNING_KEY_FILE or the dev key); absent when it signs none. */
  signingKid: z.string().optional(),
  /** Every kid whose tokens it verifies: its own keys (current and previous) and AUTH_PUBLIC_KEY_FILE's. */
  acceptedKids: z.array(z.string()),
  /** It also verifies through AUTH_JWKS_URL, whose keys only the identity provider knows. */
  jwks: z.boolean(),
  issuer: z.string(),
  audience: z.string(),
  tenantClaim: z.string(),
  requireRegistration: z.boolean(),
  /** Where its data lives, as it describes its database. */
  database: z.string(),
});

export type GatewayPresence = z.infer<typeof GatewayPresenceSchema>;

export type NewGatewayPresence = Omit<GatewayPresence, 'instance' | 'host' | 'pid' | 'startedAt'>;

/** What an instance with this configuration and these keys accepts. */
export async function presenceFacts(config: Config, keys: OwnKeys, where: Pick<GatewayPresence, 'url' | 'database' | 'version'>): Promise<NewGatewayPresence> {
  const { auth } = config;
  const accepted = keys.verifying.map((k) => k.kid);
  if (auth.publicKeyFile !== undefined) accepted.push(await publicKeyThumbprint((await readPublicKeyFile(auth.publicKeyFile, 'AUTH_PUBLIC_KEY_FILE')).key));
  return {
    ...where,
    devMode: auth.devMode,
    ...(keys.signingKey === undefined ? {} : { signingKid: keys.signingKey.kid }),
    acceptedKids: [...new Set(accepted)],
    jwks: auth.jwksUrl !== undefined,
    issuer: auth.issuer,
    audience: auth.audience,
    tenantClaim: auth.tenantClaim,
    requireRegistration: config.tenants.requireRegistration,
  };
}

/** Renewed every RENEW_MS; an instance that stops renewing (killed) drops out after TTL_MS. */
export const PRESENCE_RENEW_MS = 10_000;
export const PRESENCE_TTL_MS = 30_000;
/** An announcement lost in a failover is renewed within RENEW_MS: no replica need confirm it. */
const EPHEMERAL = { ephemeral: true } as const;
/** A removal at shutdown must never hold shutdown up, e.g. with the database gone. */
const WITHDRAW_TIMEOUT_MS = 1_000;

export interface Announcement {
  readonly presence: GatewayPresence;
  /** Stops renewing and removes the announcement (bounded in time; errors ignored). */
  withdraw(): Promise<void>;
}

/**
 * Announces this instance and keeps the announcement alive. The first write is
 * awaited, so a command run right after start-up already sees the instance.
 */
export async function announceGateway(store: StateStore, facts: NewGatewayPresence, onError: (error: unknown) => void, now: () => number = Date.now): Promise<Announcement> {
  const presence: GatewayPresence = { instance: randomUUID(), host: os.hostname(), pid: process.pid, startedAt: now(), ...facts };
  // The member is the same string on every renewal, so ZADD only moves its expiry.
  const member = JSON.stringify(presence);
  const renew = () => {
    const at = now();
    return store.zaddExpiring(stateKeys.gateways(), member, at + PRESENCE_TTL_MS, at, EPHEMERAL);
  };
  await renew();
  const timer = setInterval(() => void renew().catch(onError), PRESENCE_RENEW_MS);
  timer.unref();
  let withdrawn: Promise<void> | undefined;
  return {
    presence,
    withdraw: () =>
      (withdrawn ??= (async () => {
        clearInterval(timer);
        let timeout: NodeJS.Timeout | undefined;
        const bounded = new Promise<void>((resolve) => (timeout = setTimeout(resolve, WITHDRAW_TIMEOUT_MS)));
        await Promise.race([store.command(['ZREM', stateKeys.gateways(), member], EPHEMERAL).then(() => undefined, onError), bounded]);
        clearTimeout(timeout);
      })()),
  };
}

/** The instances whose announcement has not expired, oldest start first. */
export async function liveGateways(store: StateStore, now: () => number = Date.now): Promise<GatewayPresence[]> {
  const members = await store.zrangeFrom(stateKeys.gateways(), now());
  const found: GatewayPresence[] = [];
  for (const member of members) {
    try {
      found.push(parseRecord('gateway presence', stateKeys.gateways(), member, GatewayPresenceSchema));
    } catch {
      // Not ours to judge (another version's announcement, or a hand edit); a member that does not parse is skipped, and expires.
    }
  }
  return found.sort((a, b) => a.startedAt - b.startedAt);
}
