// Refresh tokens: opaque, stored only as SHA-256 hashes, one use each. Every
// device's chain of refresh tokens is a family; a refresh token presented a
// second time means a copy is in someone else's hands, so the family dies.
// A family's revocation and the adding of a token to it are each one script
// on the family's shard, so a token being issued while the family is revoked
// is either listed and revoked with it, or never added (and never handed out).

import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { z } from 'zod';
import { stateKeys } from './keys.js';
import { parseRecord } from './records.js';
import type { StateStore } from './store.js';
import { GrantFactsSchema, type RevocationState, type TokenLedger } from './tokens.js';

/** Recognisable prefix, so secret scanners and people can tell what leaked. */
export const REFRESH_TOKEN_PREFIX = 'fmgr_';
const REFRESH_TOKEN_SHAPE = /^fmgr_[A-Za-z0-9_-]{43}$/;

/** A refresh family; `graphs` limits every access token issued in it. */
export const RefreshRecordSchema = GrantFactsSchema.extend({
  family: z.string(),
  /** The OAuth client_id the token was issued to, which alone may refresh it; absent for CLI-issued tokens (and records written before it was kept). */
  client: z.string().optional(),
});

export type RefreshRecord = z.infer<typeof RefreshRecordSchema>;

const epochSec = z.number();

export const FamilyRecordSchema = z.object({
  id: z.string(),
  tenant: z.string(),
  device: z.string().optional(),
  scopes: z.array(z.string()),
  /** Epoch seconds. */
  createdAt: epochSec,
  /** When the current refresh token was issued, epoch seconds (absent in records written before it was kept). */
  issuedAt: epochSec.optional(),
  /** Expiry of the current refresh token, epoch seconds. */
  expiresAt: epochSec,
  /** Epoch ms; set when the family was revoked, or its device or tenant cut off (token list). */
  revokedAt: z.number().optional(),
  revokedReason: z.string().optional(),
});

export type FamilyRecord = z.infer<typeof FamilyRecordSchema>;

export type ConsumeResult = { status: 'ok'; record: RefreshRecord } | { status: 'unknown' } | { status: 'reused'; record: RefreshRecord };

const RevokedMarkerSchema = z.object({
  /** Epoch ms. */
  at: z.number(),
  reason: z.string(),
});

type RevokedMarker = z.infer<typeof RevokedMarkerSchema>;

// KEYS: revoked marker, family tokens. ARGV: score (expiry), jti, now (epoch s).
const ADD_UNLESS_REVOKED = `if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('ZADD', KEYS[2], ARGV[1], ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', '(' .. ARGV[3])
return 1`;

// KEYS: revoked marker, family record, family tokens. ARGV: marker, keep-at-least (epoch ms), now (epoch s).
// The marker lives as long as the family record (the expiry of its newest refresh token), and keeps the first reason.
const REVOKE_FAMILY = `local keep = redis.call('PEXPIRETIME', KEYS[2])
if keep < tonumber(ARGV[2]) then keep = tonumber(ARGV[2]) end
redis.call('SET', KEYS[1], ARGV[1], 'PXAT', keep, 'NX')
return redis.call('ZRANGE', KEYS[3], ARGV[3], '+inf', 'BYSCORE', 'WITHSCORES')`;

/** Least time a revocation marker is kept when the family record is already gone: longer than any exchange takes. */
const MIN_MARKER_MS = 3600_000;

/** The marker merged into the family record, which itself never says it is revoked. */
function withRevocation(id: string, family: FamilyRecord, marker: string | undefined): FamilyRecord {
  if (marker === undefined) return family;
  const { at, reason } = parseRecord('family revocation', stateKeys.familyRevoked(id), marker, RevokedMarkerSchema);
  return { ...family, revokedAt: at, revokedReason: reason };
}

/** A device or tenant cut-off that covers the family's current refresh token, as the family's revocation. */
function withCutoff(family: FamilyRecord, state: RevocationState): FamilyRecord {
  if (family.revokedAt !== undefined) return family;
  const issuedAt = family.issuedAt ?? family.createdAt;
  if (state.deviceCutoff !== undefined && issuedAt <= state.deviceCutoff) {
    return { ...family, revokedAt: state.deviceCutoff * 1000, revokedReason: `device "${family.device ?? ''}" revoked` };
  }
  if (state.tenantCutoff !== undefined && issuedAt <= state.tenantCutoff) {
    return { ...family, revokedAt: state.tenantCutoff * 1000, revokedReason: 'tenant revoked' };
  }
  return family;
}

export function looksLikeRefreshToken(value: string): boolean {
  return REFRESH_TOKEN_SHAPE.test(value);
}

function hashOf(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

export class RefreshTokens {
  readonly #store: StateStore;
  readonly #ledger: TokenLedger;
  readonly #now: () => number;

  constructor(store: StateStore, ledger: TokenLedger, now: () => number = Date.now) {
    this.#store = store;
    this.#ledger = ledger;
    this.#now = now;
  }

  /** Creates a refresh token, in `family` or a new one; the token itself is never stored. */
  async create(input: { tenant: string; device?: string; scopes: readonly string[]; graphs?: readonly string[] | undefined; audience?: string | undefined; client?: string | undefined; ttlSec: number; issuedAt: number; family?: string }): Promise<{ token: string; record: RefreshRecord }> {
    const token = REFRESH_TOKEN_PREFIX + randomBytes(32).toString('base64url');
    const family = input.family ?? randomUUID();
    const record: RefreshRecord = {
      family,
      tenant: input.tenant,
      ...(input.device === undefined ? {} : { device: input.device }),
      scopes: [...input.scopes],
      ...(input.graphs === undefined ? {} : { graphs: [...input.graphs] }),
      ...(input.audience === undefined ? {} : { audience: input.audience }),
      ...(input.client === undefined ? {} : { client: input.client }),
      issuedAt: input.issuedAt,
      expiresAt: input.issuedAt + input.ttlSec,
    };
    const existing = input.family === undefined ? undefined : await this.family(family);
    const familyRecord: FamilyRecord = {
      ...(existing ?? { id: family, tenant: record.tenant, scopes: record.scopes, createdAt: record.issuedAt }),
      ...(record.device === undefined ? {} : { device: record.device }),
      issuedAt: record.issuedAt,
      expiresAt: record.expiresAt,
    };
    // Only the marker says a family is revoked, so this write can never undo a revocation.
    delete familyRecord.revokedAt;
    delete familyRecord.revokedReason;
    const expireAtMs = record.expiresAt * 1000;
    await this.#store.setJson(stateKeys.refresh(hashOf(token)), record, expireAtMs);
    await this.#store.setJson(stateKeys.family(family), familyRecord, expireAtMs);
    await this.#store.zaddExpiring(stateKeys.tenantFamilies(record.tenant), family, record.expiresAt, Math.floor(this.#now() / 1000));
    return { token, record };
  }

  /** The family record, with its revocation (not with device or tenant cut-offs: the caller checks those). */
  async family(id: string): Promise<FamilyRecord | undefined> {
    const [record, marker] = await this.#store.mget([stateKeys.family(id), stateKeys.familyRevoked(id)]);
    return record === undefined ? undefined : withRevocation(id, parseRecord('refresh family', stateKeys.family(id), record, FamilyRecordSchema), marker);
  }

  /**
   * Notes an access token issued in a family, so the family can revoke it; false
   * (and nothing noted) when the family is revoked: the token must not be handed out.
   */
  async addAccessToken(family: string, jti: string, expiresAt: number): Promise<boolean> {
    const keys = [stateKeys.familyRevoked(family), stateKeys.familyTokens(family)];
    const added = await this.#store.command(['EVAL', ADD_UNLESS_REVOKED, String(keys.length), ...keys, String(expiresAt), jti, String(Math.floor(this.#now() / 1000))]);
    return Number(added) === 1;
  }

  /**
   * Spends a refresh token. The first caller wins; any later presentation of the
   * same token (even a concurrent one) is reported as a reuse.
   */
  async consume(token: string): Promise<ConsumeResult> {
    if (!looksLikeRefreshToken(token)) return { status: 'unknown' };
    const hash = hashOf(token);
    const record = await this.#store.getParsed(stateKeys.refresh(hash), 'refresh token', RefreshRecordSchema);
    if (record === undefined) return { status: 'unknown' };
    const first = await this.#store.set(stateKeys.refreshUsed(hash), String(this.#now()), record.expiresAt * 1000, true);
    return first ? { status: 'ok', record } : { status: 'reused', record };
  }

  /** The record behind a refresh token, without spending it (for `token inspect`). */
  async peek(token: string): Promise<{ record: RefreshRecord; used: boolean } | undefined> {
    if (!looksLikeRefreshToken(token)) return undefined;
    const hash = hashOf(token);
    const record = await this.#store.getParsed(stateKeys.refresh(hash), 'refresh token', RefreshRecordSchema);
    if (record === undefined) return undefined;
    return { record, used: await this.#store.exists(stateKeys.refreshUsed(hash)) };
  }

  /**
   * Ends a family: its refresh tokens stop working, its access tokens are revoked,
   * and no token can be added to it any more (see addAccessToken).
   */
  async revokeFamily(id: string, reason: string): Promise<number> {
    const now = this.#now();
    const marker: RevokedMarker = { at: now, reason };
    const keys = [stateKeys.familyRevoked(id), stateKeys.family(id), stateKeys.familyTokens(id)];
    const reply = await this.#store.command(['EVAL', REVOKE_FAMILY, String(keys.length), ...keys, JSON.stringify(marker), String(now + MIN_MARKER_MS), String(Math.floor(now / 1000))]);
    const listed = Array.isArray(reply) ? reply.map(String) : [];
    let revoked = 0;
    for (let i = 0; i + 1 < listed.length; i += 2) {
      await this.#ledger.revokeJti(listed[i]!, Number(listed[i + 1]));
      revoked++;
    }
    return revoked;
  }

  /** The tenant's families whose current refresh token has not expired, each saying whether it is revoked. */
  async listTenant(tenant: string): Promise<FamilyRecord[]> {
    const ids = await this.#store.zrangeFrom(stateKeys.tenantFamilies(tenant), Math.floor(this.#now() / 1000));
    const values = await this.#store.mget(ids.flatMap((id) => [stateKeys.family(id), stateKeys.familyRevoked(id)]));
    const families: FamilyRecord[] = [];
    for (let i = 0; i + 1 < values.length; i += 2) {
      const record = values[i];
      if (record === undefined) continue;
      const id = ids[i / 2]!;
      const family = withRevocation(id, parseRecord('refresh family', stateKeys.family(id), record, FamilyRecordSchema), values[i + 1]);
      families.push(withCutoff(family, await this.#ledger.revocationState({ tenant: family.tenant, ...(family.device === undefined ? {} : { device: family.device }) })));
    }
    return families;
  }
}
