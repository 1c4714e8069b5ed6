// What a valid signature does not settle: is the token revoked, is its tenant
// registered and enabled, may it be used from this address. Answers come from
// the shared state and are kept in memory for as long as the policy change
// stream (src/state/policy-changes.ts, read by policy-watch.ts) says nothing
// about their tenant or token changed; no answer is used unless a read of that
// stream, or the answer itself, started less than `cacheMs` (1 s) ago, so a
// revocation or a disabled tenant reaches every instance within that second.
// When the stream cannot be read, answers are looked up again every second, as
// if there were no stream (failing closed when the database is down too).
// While the primary is down, the answers are the stricter of a read replica's
// and what this instance last read from the primary (last-seen-policy.ts).

import { GatewayError, isGatewayError } from '../errors.js';
import type { GatewayState } from '../gateway-state.js';
import { ipMatcher } from '../cidr.js';
import type { TenantRecord } from '../state/tenants.js';
import { revocationReason, type RevocationState } from '../state/tokens.js';
import { newestPolicyChange, policyChangesFrom, CHANGE_RETENTION_MS } from '../state/policy-changes.js';
import { LastSeenPolicy } from './last-seen-policy.js';
import { PolicyWatch, type PolicyChanges } from './policy-watch.js';
import type { Principal } from '../tenancy/principal.js';
import { boundedCache } from '../bounded-cache.js';

export interface AccessPolicyOptions {
  state: GatewayState;
  /** Refuse tokens of tenants missing from the registry (TENANTS_REQUIRE_REGISTRATION). */
  requireRegistration: boolean;
  now?: () => number;
  /** Longest an answer is used without a read of the change stream, or a lookup, that started since; 0: look up every time. */
  cacheMs?: number;
  /** Longest an answer is kept at all, whatever the change stream says: a safety net for changes written around it. */
  maxAgeMs?: number;
  /** Builds the reader of the change stream, given what to call with its findings; by default from `state`, every `cacheMs / 2` (none when `cacheMs` is 0). */
  watch?: (onChanges: (changes: PolicyChanges) => void) => PolicyWatch;
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
  /** Where the principal's tenant's graphs live (`database`, absent: the shared database) and a move under way, from the same lookup. */
  placement(principal: Principal): Promise<Pick<TenantRecord, 'database' | 'move'>>;
  /** Stops reading the change stream. */
  close(): void;
}

interface Entry {
  facts: Promise<Facts>;
  /** When the lookup began: on its own, the entry says nothing about later than `cacheMs` after it. */
  startedAt: number;
  /** A background lookup to replace this entry is under way. */
  refreshing: boolean;
  tenant: string;
  jti: string | undefined;
  /** Whether the primary was up when the lookup began; an entry is used only while that still holds. */
  fromPrimary: boolean;
}

interface Facts {
  tenant: TenantRecord | undefined;
  revocation: RevocationState;
  allows: ((ip: string) => boolean) | undefined;
}

/** Principals whose answers are kept; past this the least recently used are forgotten (and looked up again when next needed). */
const MAX_ENTRIES = 50_000;
/** Longest an answer is kept whatever the change stream says (see AccessPolicyOptions.maxAgeMs). */
const DEFAULT_MAX_AGE_MS = 60_000;

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

/** The codes of the policy's own refusals: a decision about the token or tenant, not a state store that could not answer. */
const REFUSALS: ReadonlySet<string> = new Set(['TOKEN_REVOKED', 'TENANT_DISABLED', 'TENANT_NOT_REGISTERED', 'IP_FORBIDDEN']);

/** Whether `error`, from AccessPolicy.check, is a refusal of the token or tenant (then a stream it holds ends). */
export function isAccessRefusal(error: unknown): boolean {
  return isGatewayError(error) && REFUSALS.has(error.code);
}

export function createAccessPolicy(options: AccessPolicyOptions): AccessPolicy {
  const { state, requireRegistration } = options;
  const now = options.now ?? Date.now;
  const cacheMs = options.cacheMs ?? 1000;
  const maxAgeMs = options.maxAgeMs ?? DEFAULT_MAX_AGE_MS;
  // In the last quarter of `cacheMs` before an entry runs out, the next request starts a
  // fresh lookup in the background and is still answered from the entry: busy principals
  // never wait for one. With the change stream read every half `cacheMs`, entries only
  // get there when a read is late or failing, and near the end of `maxAgeMs`.
  const refreshAheadMs = cacheMs * 0.25;
  const facts = boundedCache<string, Entry>(MAX_ENTRIES);
  const lastUsedWritten = boundedCache<string, number>(MAX_ENTRIES);
  const lastUsedEveryMs = options.lastUsedEveryMs ?? 30_000;

  // What the primary last said, for a primary outage (the replica's state may lag behind it).
  const lastSeen = new LastSeenPolicy();

  function forget(changes: PolicyChanges): void {
    if (changes.all) {
      facts.clear();
      return;
    }
    const stale: string[] = [];
    for (const [key, entry] of facts.entries()) {
      if (changes.tenants.has(entry.tenant) || (entry.jti !== undefined && changes.jtis.has(entry.jti))) stale.push(key);
    }
    for (const key of stale) facts.delete(key);
  }

  const watch =
    options.watch?.(forget) ??
    (cacheMs > 0 ?
      new PolicyWatch({
        newest: () => newestPolicyChange(state.store),
        from: (from, count) => policyChangesFrom(state.store, from, count),
        onChanges: forget,
        now,
        intervalMs: cacheMs / 2,
        resyncAfterMs: CHANGE_RETENTION_MS / 2,
      })
    : undefined);

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

  /**
   * Until when the entry may answer: `cacheMs` past the later of its own lookup and the
   * last read of the change stream, within its maximum age; `byStream` when that read is
   * what sets the limit (so one read renews it, and every other entry with it).
   */
  function usable(entry: Entry): { until: number; byStream: boolean } {
    if (entry.fromPrimary !== state.store.primaryAvailable) return { until: Number.NEGATIVE_INFINITY, byStream: false };
    const own = entry.startedAt + cacheMs;
    const stream = (watch?.freshAt ?? Number.NEGATIVE_INFINITY) + cacheMs;
    const oldest = entry.startedAt + maxAgeMs;
    const until = Math.min(Math.max(own, stream), oldest);
    return { until, byStream: stream > own && stream <= oldest };
  }

  function newEntry(principal: Principal, found: Promise<Facts>, at: number, fromPrimary: boolean): Entry {
    return { facts: found, startedAt: at, refreshing: false, tenant: principal.tenant, jti: principal.jti, fromPrimary };
  }

  function refreshAhead(key: string, hit: Entry, principal: Principal, at: number): void {
    hit.refreshing = true;
    const fromPrimary = state.store.primaryAvailable;
    const refreshed = fetchFacts(principal);
    refreshed.then(
      // Only if no change dropped the entry meanwhile: then this lookup may have read what was there before it.
      () => {
        if (facts.get(key) === hit) facts.set(key, newEntry(principal, refreshed, at, fromPrimary));
      },
      // A failed refresh changes nothing: the entry runs out, and the next request looks up in the foreground.
      () => undefined,
    );
  }

  // Entries hold the lookup's promise, so requests arriving while it runs share it
  // instead of each sending their own (many arrive together when an entry expires).
  // An entry answers only while usable() says so, so what it says is never older than `cacheMs`.
  function lookup(principal: Principal): Promise<Facts> {
    watch?.start();
    const key = [principal.tenant, principal.device ?? '', principal.jti ?? '', principal.issuedAt ?? ''].join('\0');
    const at = now();
    const hit = facts.get(key);
    const { until, byStream } = hit === undefined ? { until: Number.NEGATIVE_INFINITY, byStream: false } : usable(hit);
    if (hit !== undefined && at < until) {
      if (at >= until - refreshAheadMs) {
        // The stream's read is late (a busy event loop delays its timer): one read renews every entry at once.
        if (byStream) watch?.hurry();
        else if (!hit.refreshing) refreshAhead(key, hit, principal, at);
      }
      return hit.facts;
    }
    const found = fetchFacts(principal);
    const entry = newEntry(principal, found, at, state.store.primaryAvailable);
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
    async placement(principal) {
      const tenant = (await lookup(principal)).tenant;
      return tenant === undefined ? {} : { database: tenant.database, move: tenant.move };
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
    close() {
      watch?.close();
    },
  };
}
