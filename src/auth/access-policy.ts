// What a valid signature does not settle: is the token revoked, is its tenant
// registered and enabled, may it be used from this address. Answers come from
// the shared state and are reused for at most one second, so a revocation or
// a disabled tenant reaches every instance within that second; busy principals
// get their answers refreshed in the background before that second runs out.
// While the primary is down, the answers are the stricter of a read replica's
// and what this instance last read from the primary (last-seen-policy.ts).

import { LRUCache } from 'lru-cache';
import { GatewayError } from '../errors.js';
import type { GatewayState } from '../gateway-state.js';
import { ipMatcher } from '../cidr.js';
import type { TenantRecord } from '../state/tenants.js';
import { revocationReason, type RevocationState } from '../state/tokens.js';
import { LastSeenPolicy } from './last-seen-policy.js';
import type { Principal } from '../tenancy/principal.js';

export interface AccessPolicyOptions {
  state: GatewayState;
  /** Refuse tokens of tenants missing from the registry (TENANTS_REQUIRE_REGISTRATION). */
  requireRegistration: boolean;
  now?: () => number;
  /** Longest a state lookup is reused. */
  cacheMs?: number;
  /** Least time between two "last used" writes for one token. */
  lastUsedEveryMs?: number;
  /** Stamp "last used" on tokens that pass (off for `token inspect`). */
  recordUse?: boolean;
}

export interface AccessPolicy {
  /** Throws the GatewayError that says why the principal may not proceed. */
  check(principal: Principal, clientIp: string | undefined): Promise<void>;
  /** Why the principal is refused wherever it connects from (revoked, tenant disabled, …), if it is. */
  refusal(principal: Principal): Promise<GatewayError | undefined>;
  /** The registry's part of that alone (tenant disabled or not registered), for callers without a token (stdio). */
  tenantRefusal(principal: Principal): Promise<GatewayError | undefined>;
  /** The graph rules of the principal's tenant (src/tenancy/graph-rules.ts), from the same cached lookup. */
  graphRules(principal: Principal): Promise<TenantRecord['graphRules']>;
}

interface Entry {
  facts: Promise<Facts>;
  /** When the lookup began: the entry says nothing about later than `cacheMs` after it. */
  startedAt: number;
  /** A background lookup to replace this entry is under way. */
  refreshing: boolean;
}

interface Facts {
  tenant: TenantRecord | undefined;
  revocation: RevocationState;
  allows: ((ip: string) => boolean) | undefined;
}

function tenantRefusal(principal: Principal, tenant: TenantRecord | undefined, requireRegistration: boolean): GatewayError | undefined {
  const id = principal.tenant;
  if (tenant === undefined) {
    if (requireRegistration || principal.signedBy === 'tenant') {
      return new GatewayError('TENANT_NOT_REGISTERED', `Tenant "${id}" is not registered on this gateway; ask the operator to add it.`);
    }
  } else if (tenant.status === 'disabled') {
    const since = tenant.disabledAt === undefined ? '' : ` since ${new Date(tenant.disabledAt).toISOString()}`;
    return new GatewayError('TENANT_DISABLED', `Tenant "${id}" is disabled on this gateway${since}; ask the operator to enable it.`);
  }
  return undefined;
}

function refusal(principal: Principal, facts: Facts, requireRegistration: boolean): GatewayError | undefined {
  const { tenant } = facts;
  const id = principal.tenant;
  const registry = tenantRefusal(principal, tenant, requireRegistration);
  if (registry !== undefined) return registry;
  if (tenant !== undefined && principal.signedBy === 'tenant' && principal.tenantKeyKid !== undefined && tenant.publicKeyKid !== principal.tenantKeyKid) {
    return new GatewayError('TOKEN_REVOKED', `The token was signed with a key tenant "${id}" no longer has. Get a new token.`);
  }
  const revoked = revocationReason(principal, facts.revocation);
  if (revoked !== undefined) return new GatewayError('TOKEN_REVOKED', `The token was ${revoked}. Get a new token.`);
  return undefined;
}

export function createAccessPolicy(options: AccessPolicyOptions): AccessPolicy {
  const { state, requireRegistration } = options;
  const now = options.now ?? Date.now;
  const cacheMs = options.cacheMs ?? 1000;
  // Past this share of an entry's life, the next request starts a fresh lookup in the
  // background and is still answered from the entry: busy principals never wait for one.
  const refreshAfterMs = cacheMs * 0.75;
  const facts = new LRUCache<string, Entry>({ max: 50_000 });
  const lastUsedWritten = new LRUCache<string, number>({ max: 50_000 });
  const lastUsedEveryMs = options.lastUsedEveryMs ?? 30_000;

  // What the primary last said, for a primary outage (the replica's state may lag behind it).
  const lastSeen = new LastSeenPolicy();

  async function fetchFacts(principal: Principal): Promise<Facts> {
    const fromPrimary = state.store.primaryAvailable;
    const [stored, storedRevocation] = await Promise.all([state.tenants.get(principal.tenant), state.ledger.revocationState(principal)]);
    let tenant = stored;
    let revocation = storedRevocation;
    if (fromPrimary && state.store.primaryAvailable) {
      lastSeen.remember(principal, stored, storedRevocation);
    } else {
      tenant = lastSeen.stricterTenant(principal.tenant, stored, requireRegistration || principal.signedBy === 'tenant');
      revocation = lastSeen.stricterRevocation(principal, storedRevocation);
    }
    const allows = tenant !== undefined && tenant.allowIps.length > 0 ? ipMatcher(tenant.allowIps) : undefined;
    return { tenant, revocation, allows };
  }

  // Entries hold the lookup's promise, so requests arriving while it runs share it
  // instead of each sending their own (many arrive together when an entry expires).
  // An entry is used only until `cacheMs` after its lookup *started*, so what it
  // says is never older than that.
  function lookup(principal: Principal): Promise<Facts> {
    const key = [principal.tenant, principal.device ?? '', principal.jti ?? '', principal.issuedAt ?? ''].join('\0');
    const at = now();
    const hit = facts.get(key);
    if (hit !== undefined && at < hit.startedAt + cacheMs) {
      if (!hit.refreshing && at >= hit.startedAt + refreshAfterMs) {
        hit.refreshing = true;
        const refreshed = fetchFacts(principal);
        refreshed.then(
          () => {
            if (facts.get(key) === hit) facts.set(key, { facts: refreshed, startedAt: at, refreshing: false });
          },
          // A failed refresh changes nothing: the entry runs out, and the next request looks up in the foreground.
          () => undefined,
        );
      }
      return hit.facts;
    }
    const found = fetchFacts(principal);
    const entry: Entry = { facts: found, startedAt: at, refreshing: false };
    facts.set(key, entry);
    // A failed lookup is not kept: the next request tries again.
    found.catch(() => {
      if (facts.get(key) === entry) facts.delete(key);
    });
    return found;
  }

  function noteUse(principal: Principal): void {
    const { jti } = principal;
    if (options.recordUse === false || jti === undefined || !Number.isFinite(principal.expiresAt)) return;
    const at = now();
    const last = lastUsedWritten.get(jti);
    if (last !== undefined && at - last < lastUsedEveryMs) return;
    lastUsedWritten.set(jti, at);
    // Best effort: a lost "last used" stamp must never fail the request.
    state.ledger.markUsed(jti, principal.expiresAt).catch(() => undefined);
  }

  return {
    async graphRules(principal) {
      return (await lookup(principal)).tenant?.graphRules;
    },
    async refusal(principal) {
      return refusal(principal, await lookup(principal), requireRegistration);
    },
    async tenantRefusal(principal) {
      return tenantRefusal(principal, (await lookup(principal)).tenant, requireRegistration);
    },
    async check(principal, clientIp) {
      const found = await lookup(principal);
      const refused = refusal(principal, found, requireRegistration);
      if (refused !== undefined) throw refused;
      if (found.allows !== undefined && (clientIp === undefined || !found.allows(clientIp))) {
        throw new GatewayError('IP_FORBIDDEN', `Tenant "${principal.tenant}" may not connect from ${clientIp ?? 'an unknown address'}; ask the operator to add it to the tenant's allowed addresses.`);
      }
      noteUse(principal);
    },
  };
}
