// Per-tenant daily usage counters in the database server, gathered in memory
// and written in batches so the hot path never waits on them.

import { PlanRates } from '../state/plan-rates.js';
import type { Config } from '../config/index.js';
import { GatewayError } from '../errors.js';
import type { Database } from '../falkordb/database.js';
import type { StateStore } from '../state/store.js';
import type { TenantRegistry } from '../state/tenants.js';
import type { Logger } from '../logger.js';
import type { ToolCallRecord } from './tool-call.js';
import { UsageBatch } from './usage-batch.js';
import { DAY_MS, addCounters, countersOfCall, roundMs, utcDay, zeroCounters, type UsageCounters } from './usage-counters.js';
import { readLastErrorAt, readUsageDay } from './usage-read.js';

/** Per-tenant figures for falkordb_server_info and falkordb_health; tools only ever ask about the caller's tenant. */
export interface TenantStats {
  /** Today's (UTC) counters: what the database holds plus what this instance has not written yet. */
  usageToday(tenant: string): Promise<UsageCounters>;
  /** Epoch ms of the tenant's last failed tool call, if any is kept. */
  lastErrorAt(tenant: string): Promise<number | undefined>;
  /** The limits that apply to the tenant: requests per minute (0: none), queries at once on one instance. */
  limits(tenant: string): Promise<{ ratePerMinute: number; maxConcurrentQueries: number }>;
}

export interface UsageRecorder {
  /** One admitted HTTP request (or SSE tool call) of the tenant. */
  request(tenant: string): void;
  /** One finished tool call of the tenant. */
  toolCall(tenant: string, record: ToolCallRecord): void;
  /** Writes what is gathered so far; rejects when part of it could not be written (it is kept for the next try). */
  flush(): Promise<void>;
  /** Flushes and stops the timer. */
  close(): Promise<void>;
  /** What the tools read about the caller's tenant; absent when nothing is recorded. */
  readonly stats?: TenantStats | undefined;
}

export const USAGE_FLUSH_INTERVAL_MS = 1000;
const ONE_REQUEST: Readonly<UsageCounters> = Object.freeze({ ...zeroCounters(), requests: 1 });
/** A database outage fails every flush; one warning a minute says so without flooding the log. */
export const USAGE_WARN_INTERVAL_MS = 60_000;

export interface UsageRecorderOptions {
  /** On a cluster (its database has `primaries`), each tenant-day is a command of its own: keys of one script must share a slot. */
  store: Pick<StateStore, 'command'> & { readonly database?: Pick<Database, 'primaries'> };
  tenants: Pick<TenantRegistry, 'get'>;
  config: Pick<Config, 'usage' | 'limits'>;
  logger: Logger;
  now?: () => number;
  flushIntervalMs?: number;
}

export function createUsageRecorder({ store, tenants, config, logger, now = Date.now, flushIntervalMs = USAGE_FLUSH_INTERVAL_MS }: UsageRecorderOptions): UsageRecorder {
  const batch = new UsageBatch(config.usage.retentionDays, store.database?.primaries === undefined ? {} : { keysPerCommand: 1 });
  const send = (args: readonly string[]) => store.command(args);
  let lastWarnedAt = Number.NEGATIVE_INFINITY;
  // Flushes run one after another, so each one's in-flight batch is the only one.
  let chain: Promise<void> = Promise.resolve();
  let flushing = false;

  const flushOnce = async (): Promise<void> => {
    if (batch.size === 0) return;
    flushing = true;
    try {
      const outcome = await batch.flush(send, now());
      if (outcome.failed === 0) return;
      throw new GatewayError('DATABASE_UNREACHABLE', `${outcome.failed} of ${outcome.sent} usage counter writes failed (${errorText(outcome.error)}); they are kept for the next flush.`);
    } finally {
      flushing = false;
    }
  };

  const flush = (): Promise<void> => {
    const run = chain.then(flushOnce);
    chain = run.catch(() => undefined);
    return run;
  };

  const timer = setInterval(() => {
    // A slow flush is not stacked upon: the next tick takes everything gathered meanwhile.
    if (flushing) return;
    flush().catch((error: unknown) => {
      const at = now();
      if (at - lastWarnedAt < USAGE_WARN_INTERVAL_MS) return;
      lastWarnedAt = at;
      logger.warn({ err: errorText(error), waiting: batch.size }, 'usage counters could not be written; retrying every second');
    });
  }, flushIntervalMs);
  timer.unref();

  const planRates = new PlanRates(config.limits, tenants, now);
  const stats: TenantStats = {
    usageToday: async (tenant) => {
      const day = utcDay(now());
      const stored = await readUsageDay(store, tenant, day);
      // Read after the database answered, so a counter the running flush just wrote is not added twice.
      const counters = addCounters(stored, batch.unflushed(tenant, day));
      counters.queryMs = roundMs(counters.queryMs);
      return counters;
    },
    lastErrorAt: async (tenant) => {
      // Health asks while the database may be down: this instance's own record still answers then.
      const stored = await readLastErrorAt(store, tenant).catch(() => undefined);
      const local = batch.unflushedLastError(tenant);
      return stored === undefined || local === undefined ? (stored ?? local) : Math.max(stored, local);
    },
    limits: async (tenant) => ({ ratePerMinute: await planRates.rateFor(tenant), maxConcurrentQueries: config.limits.maxConcurrentPerTenant }),
  };

  // The day string is built once per UTC day, not on every call.
  let today = { from: 0, until: 0, name: '' };
  const dayOf = (ms: number): string => {
    if (ms < today.from || ms >= today.until) {
      const from = ms - (ms % DAY_MS);
      today = { from, until: from + DAY_MS, name: utcDay(ms) };
    }
    return today.name;
  };

  return {
    request: (tenant) => batch.add(tenant, dayOf(now()), ONE_REQUEST),
    toolCall: (tenant, record) => {
      const at = now();
      batch.add(tenant, dayOf(at), countersOfCall(record));
      if (record.outcome === 'error') batch.noteError(tenant, at);
    },
    flush,
    close: async () => {
      clearInterval(timer);
      await flush().catch((error: unknown) => {
        logger.warn({ err: errorText(error), lost: batch.size }, 'usage counters could not be written at shutdown; this instance loses them');
      });
    },
    stats,
  };
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
