// The six daily usage counters of a tenant, the UTC day they are filed under,
// and how one tool call adds to them. Plain data: no clock, no database.

import { isQueryCall, type ToolCallRecord } from './tool-call.js';

export interface UsageCounters {
  /** Admitted HTTP requests (and tool calls inside an SSE session). */
  requests: number;
  /** falkordb_query calls, whatever their outcome. */
  queries: number;
  /** falkordb_query calls that changed the graph. */
  writes: number;
  /** Tool calls that ended in an error. */
  errors: number;
  /** Rows returned, summed over the calls that report a rowCount. */
  rows: number;
  /** Milliseconds spent in falkordb_query calls. */
  queryMs: number;
}

/** The hash fields, in the order tables and HMGET use them. */
export const USAGE_FIELDS = ['requests', 'queries', 'writes', 'errors', 'rows', 'queryMs'] as const satisfies ReadonlyArray<keyof UsageCounters>;

/** Stored with HINCRBYFLOAT; every other field is a whole number (HINCRBY). */
export const FRACTIONAL_FIELD = 'queryMs';

export function zeroCounters(): UsageCounters {
  return { requests: 0, queries: 0, writes: 0, errors: 0, rows: 0, queryMs: 0 };
}

/** Adds `more` into `into`, in place. */
export function addCounters(into: UsageCounters, more: Readonly<UsageCounters>): UsageCounters {
  for (const field of USAGE_FIELDS) into[field] += more[field];
  return into;
}

/** Float sums drift (0.1 + 0.2); durations are kept to the microsecond, like the records themselves. */
export function roundMs(ms: number): number {
  return Math.round(ms * 1000) / 1000;
}

/** What one finished tool call adds. */
export function countersOfCall(record: ToolCallRecord): UsageCounters {
  const query = isQueryCall(record);
  return {
    requests: 0,
    queries: query ? 1 : 0,
    // A failed query changed nothing (FalkorDB runs a query all or nothing), even when it was sent as a write.
    writes: query && record.write === true && record.outcome === 'success' ? 1 : 0,
    errors: record.outcome === 'error' ? 1 : 0,
    rows: record.rowCount ?? 0,
    queryMs: query ? record.durationMs : 0,
  };
}

/** Counters from an HMGET of USAGE_FIELDS (missing fields count as 0). */
export function countersFromReply(reply: unknown): UsageCounters {
  const values = Array.isArray(reply) ? reply : [];
  const counters = zeroCounters();
  USAGE_FIELDS.forEach((field, i) => {
    const value = Number(values[i] ?? 0);
    counters[field] = Number.isFinite(value) ? value : 0;
  });
  counters.queryMs = roundMs(counters.queryMs);
  return counters;
}

export const DAY_MS = 86_400_000;

/** The UTC day of an epoch-ms time, as `YYYY-MM-DD`. */
export function utcDay(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}

/** `count` UTC days ending with the day of `ms`, newest first. */
export function recentDays(ms: number, count: number): string[] {
  return Array.from({ length: count }, (_, i) => utcDay(ms - i * DAY_MS));
}

/** Epoch seconds at which a day's counters expire: `retentionDays` after the day has ended. */
export function dayExpiresAtSec(day: string, retentionDays: number): number {
  return Math.floor((Date.parse(`${day}T00:00:00Z`) + (retentionDays + 1) * DAY_MS) / 1000);
}
