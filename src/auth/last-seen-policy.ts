// This instance's copy of the tenant records and revocations the call path read
// from the primary, kept for a primary outage: the state then comes from a read
// replica, which may lag behind what the primary last said, so each fact is the
// stricter of this copy and the replica's. A revoked token stays revoked and a
// disabled tenant stays disabled; nobody can change either while the primary is down.

import type { TenantRecord } from '../state/tenants.js';
import type { RevocationState, TokenIdentity } from '../state/tokens.js';
import { boundedCache } from '../bounded-cache.js';

/** Entries of each kind kept; past this the least recently used are forgotten (then the replica's word stands). */
const MAX_ENTRIES = 50_000;

// A tenant the primary said is not registered is remembered as null (LRUCache holds no undefined).
type SeenTenant = TenantRecord | null;

const later = (a: number | undefined, b: number | undefined): number | undefined => (a === undefined ? b : b === undefined ? a : Math.max(a, b));

export class LastSeenPolicy {
  readonly #tenants = boundedCache<string, { record: SeenTenant }>(MAX_ENTRIES);
  readonly #tenantCutoffs = boundedCache<string, number>(MAX_ENTRIES);
  readonly #deviceCutoffs = boundedCache<string, number>(MAX_ENTRIES);
  readonly #revokedJtis = boundedCache<string, number>(MAX_ENTRIES);

  /** Records what the primary answered. */
  remember(token: TokenIdentity, tenant: TenantRecord | undefined, revocation: RevocationState): void {
    this.#tenants.set(token.tenant, { record: tenant ?? null });
    if (revocation.tenantCutoff === undefined) this.#tenantCutoffs.delete(token.tenant);
    else this.#tenantCutoffs.set(token.tenant, revocation.tenantCutoff);
    if (token.device !== undefined) {
      const key = deviceKey(token.tenant, token.device);
      if (revocation.deviceCutoff === undefined) this.#deviceCutoffs.delete(key);
      else this.#deviceCutoffs.set(key, revocation.deviceCutoff);
    }
    if (token.jti !== undefined && revocation.jtiRevokedAt !== undefined) this.#revokedJtis.set(token.jti, revocation.jtiRevokedAt);
  }

  /** The revocations that apply: any the replica or this copy knows of, the later cut-offs. */
  stricterRevocation(token: TokenIdentity, replica: RevocationState): RevocationState {
    const state: RevocationState = {};
    const jti = replica.jtiRevokedAt ?? (token.jti === undefined ? undefined : this.#revokedJtis.get(token.jti));
    const tenantCutoff = later(replica.tenantCutoff, this.#tenantCutoffs.get(token.tenant));
    const deviceCutoff = later(replica.deviceCutoff, token.device === undefined ? undefined : this.#deviceCutoffs.get(deviceKey(token.tenant, token.device)));
    if (jti !== undefined) state.jtiRevokedAt = jti;
    if (tenantCutoff !== undefined) state.tenantCutoff = tenantCutoff;
    if (deviceCutoff !== undefined) state.deviceCutoff = deviceCutoff;
    return state;
  }

  /**
   * The stricter of the replica's record and this copy: disabled when either says so;
   * not registered when either says so and that refuses the token (`missingRefused`),
   * else the record kept (with its address and graph rules); otherwise the newer one.
   */
  stricterTenant(id: string, replica: TenantRecord | undefined, missingRefused: boolean): TenantRecord | undefined {
    const seen = this.#tenants.get(id);
    if (seen === undefined) return replica;
    const cached = seen.record ?? undefined;
    if (cached === undefined || replica === undefined) return missingRefused ? undefined : (cached ?? replica);
    if (cached.status === 'disabled' && replica.status !== 'disabled') return cached;
    if (replica.status === 'disabled') return replica;
    return replica.updatedAt >= cached.updatedAt ? replica : cached;
  }
}

function deviceKey(tenant: string, device: string): string {
  return `${tenant}\0${device}`;
}
