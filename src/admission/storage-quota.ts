// Per-tenant storage quota: what a tenant's graphs take in FalkorDB, measured
// on the gateway's own connection (so acl-mode tenant users need no new
// right) at most once per TENANT_STORAGE_CHECK_MS per tenant on each instance.
// A write that may add data is refused while the last measurement is at or
// over the quota; reads and writes that only delete always run.

import type { Config } from '../config/index.js';
import { GatewayError } from '../errors.js';
import type { Database } from '../falkordb/database.js';
import type { GraphClient } from '../falkordb/graphs.js';
import { graphsStorageBytes } from '../falkordb/storage.js';
import { formatSize } from '../size.js';
import type { TenantRecord, TenantRegistry } from '../state/tenants.js';
import { tenantKeyPrefix } from '../tenancy/keys.js';

/** What a tenant's graphs take now, and what it may take (0: no quota). */
export interface TenantStorage {
  usedBytes: number;
  quotaBytes: number;
  graphs: number;
}

type StorageLimits = Pick<Config['limits'], 'storageQuotaBytes' | 'storageCheckMs'>;

/** The tenant's own quota if its record has one, else the default. */
export function storageQuotaOf(record: Pick<TenantRecord, 'storageQuotaBytes'> | undefined, defaultBytes: number): number {
  return record?.storageQuotaBytes ?? defaultBytes;
}

/** Sums the storage of every graph of the tenant (see graphStorageBytes: whole MiB plus 1 MiB per graph). */
export async function measureTenantStorage(graphs: Pick<GraphClient, 'listKeys'> & { database: Pick<Database, 'sendCommand'> }, tenant: string): Promise<{ usedBytes: number; graphs: number }> {
  const keys = await graphs.listKeys(tenantKeyPrefix(tenant));
  return { usedBytes: await graphsStorageBytes(graphs.database, keys), graphs: keys.length };
}

/** The refusal a tenant's write gets, with the usage, the quota and when the gateway measures again. */
export function storageQuotaExceeded(tenant: string, usedBytes: number, quotaBytes: number, checkMs: number): GatewayError {
  const wait = checkMs <= 0 ? '' : ` (its storage is measured again within ${Math.max(1, Math.ceil(checkMs / 1000))} s)`;
  return new GatewayError(
    'STORAGE_QUOTA_EXCEEDED',
    `Tenant "${tenant}" stores ${formatSize(usedBytes)} in its graphs, at or over its storage quota of ${formatSize(quotaBytes)}, so writes that may add data are refused; reads and deletes still run. Delete data (e.g. MATCH (n:Old) DETACH DELETE n, or falkordb_delete_graph) and write again${wait}, or ask the operator to raise the quota.`,
    { usedBytes: String(usedBytes), quotaBytes: String(quotaBytes) },
  );
}

interface Entry {
  measured: Promise<TenantStorage>;
  at: number;
}

export interface StorageQuotaOptions {
  /** The gateway's own graph operations: listing and GRAPH.MEMORY run on its connection, never a tenant user's. */
  graphs: Pick<GraphClient, 'listKeys' | 'database'>;
  tenants: Pick<TenantRegistry, 'get'>;
  limits: StorageLimits;
  now?: () => number;
}

export class StorageQuota {
  readonly #options: StorageQuotaOptions;
  readonly #now: () => number;
  readonly #entries = new Map<string, Entry>();

  constructor(options: StorageQuotaOptions) {
    this.#options = options;
    this.#now = options.now ?? Date.now;
  }

  /** The tenant's storage and quota, measured at most once per TENANT_STORAGE_CHECK_MS (callers at once share one measurement). */
  storage(tenant: string): Promise<TenantStorage> {
    const at = this.#now();
    const hit = this.#entries.get(tenant);
    if (hit !== undefined && at - hit.at < this.#options.limits.storageCheckMs) return hit.measured;
    const measured = this.#measure(tenant);
    const entry: Entry = { measured, at };
    this.#entries.set(tenant, entry);
    // A failed measurement is not kept: the next write measures again.
    measured.catch(() => {
      if (this.#entries.get(tenant) === entry) this.#entries.delete(tenant);
    });
    this.#forgetStale(at);
    return measured;
  }

  /** Throws STORAGE_QUOTA_EXCEEDED when the tenant's last measured storage is at or over its quota. */
  async assertRoom(tenant: string): Promise<void> {
    const { usedBytes, quotaBytes } = await this.storage(tenant);
    if (quotaBytes > 0 && usedBytes >= quotaBytes) throw storageQuotaExceeded(tenant, usedBytes, quotaBytes, this.#options.limits.storageCheckMs);
  }

  async #measure(tenant: string): Promise<TenantStorage> {
    const record = await this.#options.tenants.get(tenant);
    const quotaBytes = storageQuotaOf(record, this.#options.limits.storageQuotaBytes);
    // Without a quota nothing is refused, so nothing is measured.
    if (quotaBytes === 0) return { usedBytes: 0, quotaBytes, graphs: 0 };
    return { ...(await measureTenantStorage(this.#options.graphs, tenant)), quotaBytes };
  }

  /** Entries past their interval are measured afresh anyway; dropping them keeps the map to the tenants writing now. */
  #forgetStale(at: number): void {
    if (this.#entries.size < 1000) return;
    for (const [tenant, entry] of this.#entries) if (at - entry.at >= this.#options.limits.storageCheckMs) this.#entries.delete(tenant);
  }
}
