// The audit streams in the database server: one capped stream per tenant (and
// one for events of no tenant), appended by every instance, read by `audit tail`.

import type { RespValue } from '../falkordb/database.js';
import { stateKeys } from '../state/keys.js';
import type { StateStore } from '../state/store.js';
import { AUDIT_FIELDS, NUMERIC_AUDIT_FIELDS, type AuditEvent } from './audit-event.js';

export function auditStreamKey(tenant: string | undefined): string {
  return tenant === undefined ? stateKeys.audit() : stateKeys.tenantAudit(tenant);
}

/** Appends one event; the stream keeps about `maxLen` of the newest (`~` lets the server trim in whole nodes, cheaply). */
export async function appendAuditEvent(store: StateStore, event: AuditEvent, maxLen: number): Promise<void> {
  const args = ['XADD', auditStreamKey(event.tenant), 'MAXLEN', '~', String(maxLen), '*'];
  for (const field of AUDIT_FIELDS) {
    const value = event[field];
    if (value !== undefined) args.push(field, String(value));
  }
  await store.command(args);
}

export interface StoredAuditEvent {
  /** Stream entry id, `<ms>-<seq>`; read on after it. */
  id: string;
  event: AuditEvent;
}

function decodeEntry(entry: RespValue): StoredAuditEvent | undefined {
  if (!Array.isArray(entry) || typeof entry[0] !== 'string' || !Array.isArray(entry[1])) return undefined;
  const pairs = entry[1];
  const event: Record<string, unknown> = {};
  for (let i = 0; i + 1 < pairs.length; i += 2) {
    const field = String(pairs[i]);
    const value = String(pairs[i + 1]);
    event[field] = NUMERIC_AUDIT_FIELDS.has(field) ? Number(value) : value;
  }
  return { id: entry[0], event: event as unknown as AuditEvent };
}

/** Entries read per round trip: large enough to be quick, small enough not to stall the server. */
export const AUDIT_PAGE_SIZE = 500;

/**
 * The tenant's events after `after` (exclusive entry id) or from `sinceMs`
 * (epoch ms, inclusive), oldest first, at most one page.
 */
export async function readAuditPage(store: StateStore, tenant: string, from: { after: string } | { sinceMs: number }): Promise<StoredAuditEvent[]> {
  const start = 'after' in from ? `(${from.after}` : String(Math.max(0, Math.floor(from.sinceMs)));
  const reply = await store.command(['XRANGE', auditStreamKey(tenant), start, '+', 'COUNT', String(AUDIT_PAGE_SIZE)]);
  return (Array.isArray(reply) ? reply : []).flatMap((e) => decodeEntry(e) ?? []);
}
