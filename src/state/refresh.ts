// Refresh tokens: opaque, stored only as SHA-256 hashes, one use each. Every
// device's chain of refresh tokens is a family; a refresh token presented a
// second time means a copy is in someone else's hands, so the family dies.

import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { stateKeys } from './keys.js';
import type { StateStore } from './store.js';
import type { GrantFacts, TokenLedger } from './tokens.js';

/** Recognisable prefix, so secret scanners and people can tell what leaked. */
export const REFRESH_TOKEN_PREFIX = 'fmgr_';
const REFRESH_TOKEN_SHAPE = /^fmgr_[A-Za-z0-9_-]{43}$/;

/** A refresh family; `graphs` limits every access token issued in it. */
export interface RefreshRecord extends GrantFacts {
  family: string;
}

export interface FamilyRecord {
  id: string;
  tenant: string;
  device?: string;
  scopes: string[];
  /** Epoch seconds. */
  createdAt: number;
  /** Expiry of the current refresh token, epoch seconds. */
  expiresAt: number;
  /** Epoch ms. */
  revokedAt?: number;
  revokedReason?: string;
}

export type ConsumeResult =
  | { status: 'ok'; record: RefreshRecord; family: FamilyRecord | undefined }
  | { status: 'unknown' }
  | { status: 'reused'; record: RefreshRecord };

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
  async create(input: { tenant: string; device?: string; scopes: readonly string[]; graphs?: readonly string[] | undefined; ttlSec: number; issuedAt: number; family?: string }): Promise<{ token: string; record: RefreshRecord }> {
    const token = REFRESH_TOKEN_PREFIX + randomBytes(32).toString('base64url');
    const family = input.family ?? randomUUID();
    const record: RefreshRecord = {
      family,
      tenant: input.tenant,
      ...(input.device === undefined ? {} : { device: input.device }),
      scopes: [...input.scopes],
      ...(input.graphs === undefined ? {} : { graphs: [...input.graphs] }),
      issuedAt: input.issuedAt,
      expiresAt: input.issuedAt + input.ttlSec,
    };
    const existing = input.family === undefined ? undefined : await this.family(family);
    const familyRecord: FamilyRecord = {
      ...(existing ?? { id: family, tenant: record.tenant, scopes: record.scopes, createdAt: record.issuedAt }),
      ...(record.device === undefined ? {} : { device: record.device }),
      expiresAt: record.expiresAt,
    };
    const expireAtMs = record.expiresAt * 1000;
    await this.#store.setJson(stateKeys.refresh(hashOf(token)), record, expireAtMs);
    await this.#store.setJson(stateKeys.family(family), familyRecord, expireAtMs);
    await this.#store.zaddExpiring(stateKeys.tenantFamilies(record.tenant), family, record.expiresAt, Math.floor(this.#now() / 1000));
    return { token, record };
  }

  family(id: string): Promise<FamilyRecord | undefined> {
    return this.#store.getJson<FamilyRecord>(stateKeys.family(id));
  }

  /** Notes an access token issued in a family, so the family can revoke it. */
  async addAccessToken(family: string, jti: string, expiresAt: number): Promise<void> {
    await this.#store.zaddExpiring(stateKeys.familyTokens(family), jti, expiresAt, Math.floor(this.#now() / 1000));
  }

  /**
   * Spends a refresh token. The first caller wins; any later presentation of the
   * same token (even a concurrent one) is reported as a reuse.
   */
  async consume(token: string): Promise<ConsumeResult> {
    if (!looksLikeRefreshToken(token)) return { status: 'unknown' };
    const hash = hashOf(token);
    const record = await this.#store.getJson<RefreshRecord>(stateKeys.refresh(hash));
    if (record === undefined) return { status: 'unknown' };
    const first = await this.#store.set(stateKeys.refreshUsed(hash), String(this.#now()), record.expiresAt * 1000, true);
    if (!first) return { status: 'reused', record };
    return { status: 'ok', record, family: await this.family(record.family) };
  }

  /** The record behind a refresh token, without spending it (for `token inspect`). */
  async peek(token: string): Promise<{ record: RefreshRecord; used: boolean } | undefined> {
    if (!looksLikeRefreshToken(token)) return undefined;
    const hash = hashOf(token);
    const record = await this.#store.getJson<RefreshRecord>(stateKeys.refresh(hash));
    if (record === undefined) return undefined;
    return { record, used: await this.#store.exists(stateKeys.refreshUsed(hash)) };
  }

  /** Ends a family: its refresh tokens stop working and its access tokens are revoked. */
  async revokeFamily(id: string, reason: string): Promise<number> {
    const family = await this.family(id);
    if (family !== undefined && family.revokedAt === undefined) {
      await this.#store.setJson(stateKeys.family(id), { ...family, revokedAt: this.#now(), revokedReason: reason }, family.expiresAt * 1000);
    }
    const nowSec = Math.floor(this.#now() / 1000);
    const jtis = await this.#store.zrangeFrom(stateKeys.familyTokens(id), nowSec);
    for (const jti of jtis) {
      const issued = await this.#ledger.get(jti);
      await this.#ledger.revokeJti(jti, issued?.expiresAt);
    }
    return jtis.length;
  }

  /** The tenant's families whose current refresh token has not expired. */
  async listTenant(tenant: string): Promise<FamilyRecord[]> {
    const ids = await this.#store.zrangeFrom(stateKeys.tenantFamilies(tenant), Math.floor(this.#now() / 1000));
    const values = await this.#store.mget(ids.map((id) => stateKeys.family(id)));
    return values.flatMap((v) => (v === undefined ? [] : [JSON.parse(v) as FamilyRecord]));
  }
}
