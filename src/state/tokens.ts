// The token ledger: what the gateway issued (for `token list`), what has been
// revoked (by jti, by device, by tenant), and when a token was last used.
// Revocation markers expire with the tokens they revoke; each is written together
// with an entry in the policy change stream, which tells every instance to forget
// what it holds about that token or tenant (src/state/policy-changes.ts).

import { z } from 'zod';
import { stateKeys } from './keys.js';
import { writeNoting } from './policy-changes.js';
import { parseRecord } from './records.js';
import type { StateStore } from './store.js';

/** What a grant of access holds, whether an access token or a refresh family. */
export const GrantFactsSchema = z.object({
  tenant: z.string(),
  device: z.string().optional(),
  scopes: z.array(z.string()),
  /** Graph patterns the grant is limited to; absent: no narrowing. */
  graphs: z.array(z.string()).optional(),
  /** The `aud` of the access tokens, when not AUTH_AUDIENCE: the resource an OAuth client asked for (RFC 8707). */
  audience: z.string().optional(),
  /** Epoch seconds. */
  issuedAt: z.number(),
  expiresAt: z.number(),
});

export type GrantFacts = z.infer<typeof GrantFactsSchema>;

export const IssuedTokenSchema = GrantFactsSchema.extend({
  jti: z.string(),
  /** Refresh family the token was issued in, if any. */
  family: z.string().optional(),
});

export type IssuedToken = z.infer<typeof IssuedTokenSchema>;

/** The facts revocation needs about a token. */
export interface TokenIdentity {
  tenant: string;
  jti?: string | undefined;
  device?: string | undefined;
  /** Epoch seconds; a token without one counts as issued before any cut-off. */
  issuedAt?: number | undefined;
}

export interface RevocationState {
  /** Epoch ms the jti was revoked, if it was. */
  jtiRevokedAt?: number;
  /** Epoch seconds of the tenant / device cut-offs, if any. */
  tenantCutoff?: number;
  deviceCutoff?: number;
}

/** Why a token is revoked, in plain words, or undefined when it is not. */
export function revocationReason(token: TokenIdentity, state: RevocationState): string | undefined {
  const iat = token.issuedAt ?? Number.NEGATIVE_INFINITY;
  const at = (seconds: number) => new Date(seconds * 1000).toISOString();
  if (state.jtiRevokedAt !== undefined) return `revoked at ${new Date(state.jtiRevokedAt).toISOString()}`;
  if (state.deviceCutoff !== undefined && iat <= state.deviceCutoff) return `revoked at ${at(state.deviceCutoff)} with every token of device "${token.device ?? ''}"`;
  if (state.tenantCutoff !== undefined && iat <= state.tenantCutoff) return `revoked at ${at(state.tenantCutoff)} with every token of tenant "${token.tenant}"`;
  return undefined;
}

function numberOrUndefined(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  return Number.isFinite(n) ? n : undefined;
}

export class TokenLedger {
  readonly #store: StateStore;
  readonly #now: () => number;

  constructor(store: StateStore, now: () => number = Date.now) {
    this.#store = store;
    this.#now = now;
  }

  get store(): StateStore {
    return this.#store;
  }

  async record(token: IssuedToken): Promise<void> {
    const expireAt = token.expiresAt * 1000;
    await this.#store.setJson(stateKeys.token(token.jti), token, expireAt);
    await this.#store.zaddExpiring(stateKeys.tenantTokens(token.tenant), token.jti, token.expiresAt, Math.floor(this.#now() / 1000));
  }

  get(jti: string): Promise<IssuedToken | undefined> {
    return this.#store.getParsed(stateKeys.token(jti), 'issued token', IssuedTokenSchema);
  }

  /** The tenant's tokens that have not expired, oldest expiry first. */
  async listTenant(tenant: string): Promise<Array<IssuedToken & { lastUsedAt?: number; revoked?: string }>> {
    const nowSec = Math.floor(this.#now() / 1000);
    const jtis = await this.#store.zrangeFrom(stateKeys.tenantTokens(tenant), nowSec);
    const keys = jtis.map((jti) => stateKeys.token(jti));
    const records = await this.#store.mget(keys);
    const used = await this.#store.mget(jtis.map((jti) => stateKeys.tokenLastUsed(jti)));
    const out: Array<IssuedToken & { lastUsedAt?: number; revoked?: string }> = [];
    for (const [i, raw] of records.entries()) {
      if (raw === undefined) continue;
      const token = parseRecord('issued token', keys[i]!, raw, IssuedTokenSchema);
      const revoked = revocationReason(token, await this.revocationState(token));
      const lastUsedAt = numberOrUndefined(used[i]);
      out.push({ ...token, ...(lastUsedAt === undefined ? {} : { lastUsedAt }), ...(revoked === undefined ? {} : { revoked }) });
    }
    return out;
  }

  /** Revocation markers that apply to a token, in one round trip. */
  async revocationState(token: TokenIdentity): Promise<RevocationState> {
    const keys = [
      token.jti === undefined ? undefined : stateKeys.revokedJti(token.jti),
      stateKeys.tenantCutoff(token.tenant),
      token.device === undefined ? undefined : stateKeys.deviceCutoff(token.tenant, token.device),
    ];
    const present = keys.filter((k): k is string => k !== undefined);
    const values = await this.#store.mget(present);
    const valueOf = (key: string | undefined) => (key === undefined ? undefined : numberOrUndefined(values[present.indexOf(key)]));
    const state: RevocationState = {};
    const jti = valueOf(keys[0]);
    const tenantCutoff = valueOf(keys[1]);
    const deviceCutoff = valueOf(keys[2]);
    if (jti !== undefined) state.jtiRevokedAt = jti;
    if (tenantCutoff !== undefined) state.tenantCutoff = tenantCutoff;
    if (deviceCutoff !== undefined) state.deviceCutoff = deviceCutoff;
    return state;
  }

  /**
   * Revokes one token. `expiresAt` (epoch seconds) bounds how long the marker is
   * kept; without it (a token the gateway has no record of) it is kept for good.
   */
  async revokeJti(jti: string, expiresAt: number | undefined): Promise<void> {
    const expiry: string[] = expiresAt === undefined ? [] : ['PXAT', String(Math.ceil(expiresAt * 1000))];
    await writeNoting(this.#store, { jti }, ['SET', stateKeys.revokedJti(jti), String(this.#now()), ...expiry]);
  }

  /** Revokes every token of the device issued up to now; returns the cut-off (epoch seconds). */
  async revokeDevice(tenant: string, device: string): Promise<number> {
    const cutoff = Math.floor(this.#now() / 1000);
    await writeNoting(this.#store, { tenant }, ['SET', stateKeys.deviceCutoff(tenant, device), String(cutoff)]);
    return cutoff;
  }

  /** Revokes every token of the tenant issued up to now; returns the cut-off (epoch seconds). */
  async revokeTenant(tenant: string): Promise<number> {
    const cutoff = Math.floor(this.#now() / 1000);
    await writeNoting(this.#store, { tenant }, ['SET', stateKeys.tenantCutoff(tenant), String(cutoff)]);
    return cutoff;
  }

  /**
   * The earliest whole second a new token of this tenant/device can be issued
   * in without falling under a cut-off set in the same second.
   */
  async earliestIssueSecond(tenant: string, device: string | undefined): Promise<number> {
    const state = await this.revocationState({ tenant, ...(device === undefined ? {} : { device }) });
    return Math.max(state.tenantCutoff ?? 0, state.deviceCutoff ?? 0) + 1;
  }

  async markUsed(jti: string, expiresAt: number): Promise<void> {
    await this.#store.set(stateKeys.tokenLastUsed(jti), String(this.#now()), expiresAt * 1000);
  }
}
