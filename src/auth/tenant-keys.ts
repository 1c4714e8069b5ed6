// Keys tenants sign their own tokens with (a PEM public key or their own
// JWKS), looked up in the tenant registry by the tenant the token names. A
// tenant's key is only ever tried for tokens naming that tenant, so it can
// never sign for another.

import { createPublicKey, type KeyObject } from 'node:crypto';
import type { CryptoKey } from 'jose';
import type { TenantRecord, TenantRegistry } from '../state/tenants.js';
import { remoteKeySet } from './key-sources.js';
import { ASYMMETRIC_ALGORITHMS, verifyAlgorithmsFor } from './keys.js';
import { boundedCache } from '../bounded-cache.js';

export interface TenantKey {
  /** Algorithms the key may verify. */
  readonly algorithms: readonly string[];
  /** Required `iss` of the tenant's tokens. */
  readonly issuer: string;
  /** Thumbprint of a PEM key; undefined for a JWKS. */
  readonly kid: string | undefined;
  keys(alg: string, kid: string | undefined): Promise<ReadonlyArray<KeyObject | CryptoKey>>;
}

export type TenantKeyResolver = (tenant: string) => Promise<TenantKey | undefined>;

export interface TenantKeyOptions {
  /** How long a registry lookup is reused; changes reach every instance within it. */
  cacheMs?: number;
  defaultIssuer: string;
}

export function createTenantKeyResolver(registry: TenantRegistry, options: TenantKeyOptions): TenantKeyResolver {
  const cacheMs = options.cacheMs ?? 1000;
  const records = boundedCache<string, { record: TenantRecord | null; until: number }>(10_000);
  const pemKeys = boundedCache<string, KeyObject>(10_000);
  const jwksSets = boundedCache<string, ReturnType<typeof remoteKeySet>>(1_000);

  function fromRecord(record: TenantRecord): TenantKey | undefined {
    const issuer = record.issuer ?? options.defaultIssuer;
    if (record.publicKeyPem !== undefined) {
      let key = pemKeys.get(record.publicKeyPem);
      if (key === undefined) {
        key = createPublicKey(record.publicKeyPem);
        pemKeys.set(record.publicKeyPem, key);
      }
      const verifyWith = key;
      return { algorithms: verifyAlgorithmsFor(key) ?? [], issuer, kid: record.publicKeyKid, keys: () => Promise.resolve([verifyWith]) };
    }
    if (record.jwksUrl !== undefined) {
      let set = jwksSets.get(record.jwksUrl);
      if (set === undefined) {
        set = remoteKeySet(new URL(record.jwksUrl));
        jwksSets.set(record.jwksUrl, set);
      }
      return { algorithms: ASYMMETRIC_ALGORITHMS, issuer, kid: undefined, keys: set };
    }
    return undefined;
  }

  return async (tenant) => {
    let cached = records.get(tenant);
    if (cached === undefined || Date.now() >= cached.until) {
      cached = { record: (await registry.get(tenant)) ?? null, until: Date.now() + cacheMs };
      records.set(tenant, cached);
    }
    if (cached.record === null || cached.record.status !== 'enabled') return undefined;
    return fromRecord(cached.record);
  };
}
