// Reads the daily usage counters back out of the database server: one tenant's
// days, and which tenants have any, for `tenant usage` and the tools.

import type { RespValue } from '../falkordb/database.js';
import { stateKeys } from '../state/keys.js';
import type { StateStore } from '../state/store.js';
import { encodedTenantId } from '../tenancy/keys.js';
import { USAGE_FIELDS, countersFromReply, type UsageCounters } from './usage-counters.js';

/** Reading needs nothing but commands. */
type Commands = Pick<StateStore, 'command'>;

/** One tenant's counters for one UTC day, as `tenant usage --json` prints it. */
export interface UsageRow extends UsageCounters {
  tenant: string;
  day: string;
}

/** The tenant's stored counters for `day`; zeros when it has none. */
export async function readUsageDay(store: Commands, tenant: string, day: string): Promise<UsageCounters> {
  return countersFromReply(await store.command(['HMGET', stateKeys.usageDay(tenant, day), ...USAGE_FIELDS]));
}

/** Each tenant's counters for each of `days` that has any, in the order given (tenants, then days). */
export async function readUsageRows(store: Commands, tenants: readonly string[], days: readonly string[]): Promise<UsageRow[]> {
  const wanted = tenants.flatMap((tenant) => days.map((day) => ({ tenant, day })));
  // All sent before any is awaited: the client pipelines them into one round trip.
  const replies = await Promise.all(wanted.map(({ tenant, day }) => store.command(['HMGET', stateKeys.usageDay(tenant, day), ...USAGE_FIELDS])));
  return wanted.flatMap(({ tenant, day }, i) => {
    const reply = replies[i];
    const stored = Array.isArray(reply) && reply.some((value) => value !== null);
    return stored ? [{ tenant, day, ...countersFromReply(reply) }] : [];
  });
}

const ENCODED_TENANT = /^(?:[A-Za-z0-9.-]|%[0-9A-F]{2})+$/;
const DAY = /^\d{4}-\d\d-\d\d$/;

/** The tenant a usage key belongs to; undefined for anything that is not one. */
export function tenantOfUsageKey(key: string): string | undefined {
  const prefix = stateKeys.usageDayPrefix();
  if (!key.startsWith(prefix)) return undefined;
  const rest = key.slice(prefix.length);
  const cut = rest.lastIndexOf(':');
  const encoded = rest.slice(0, cut);
  if (cut <= 0 || !ENCODED_TENANT.test(encoded) || !DAY.test(rest.slice(cut + 1))) return undefined;
  try {
    const tenant = decodeURIComponent(encoded);
    // Only the canonical encoding maps back, as for graph keys.
    return encodedTenantId(tenant) === encoded ? tenant : undefined;
  } catch {
    return undefined;
  }
}

const SCAN_COUNT = '1000';

/** Every tenant with counters still kept, sorted: SCAN, so a big keyspace never blocks the server. */
export async function tenantsWithUsage(store: Commands): Promise<string[]> {
  const found = new Set<string>();
  const match = `${stateKeys.usageDayPrefix()}*`;
  let cursor = '0';
  do {
    const reply: RespValue = await store.command(['SCAN', cursor, 'MATCH', match, 'COUNT', SCAN_COUNT]);
    if (!Array.isArray(reply) || reply.length < 2) break;
    cursor = String(reply[0]);
    for (const key of Array.isArray(reply[1]) ? reply[1] : []) {
      const tenant = tenantOfUsageKey(String(key));
      if (tenant !== undefined) found.add(tenant);
    }
  } while (cursor !== '0');
  return [...found].sort();
}

/** Epoch ms of the tenant's last failed tool call as stored, or undefined. */
export async function readLastErrorAt(store: Commands, tenant: string): Promise<number | undefined> {
  const score = await store.command(['ZSCORE', stateKeys.usageLastErrors(), stateKeys.usageLastErrorMember(tenant)]);
  return score === null ? undefined : Number(score);
}
