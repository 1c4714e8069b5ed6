// Usage gathered in memory between flushes, and the flush itself: one command
// per tenant-day (a script doing its increments), all sent together
// (pipelined), and whatever the database did not take goes back into the batch
// for the next try, so a failed flush loses nothing.

import { stateKeys } from '../state/keys.js';
import { DAY_MS, FRACTIONAL_FIELD, USAGE_FIELDS, addCounters, dayExpiresAtSec, zeroCounters, type UsageCounters } from './usage-counters.js';

/** Sends one command; every call of one flush is made before any is awaited, so the client pipelines them. */
export type SendCommand = (args: readonly string[]) => Promise<unknown>;

interface Entry {
  tenant: string;
  day: string;
  counters: UsageCounters;
  /** The key's expiry has not been set by this instance yet (the script still sets it wherever it is missing). */
  expire: boolean;
}

export interface FlushOutcome {
  /** Commands sent. */
  sent: number;
  /** Commands that failed; what they carried is back in the batch. */
  failed: number;
  /** The first failure, for the log. */
  error?: unknown;
}

interface Operation {
  args: string[];
  settle(ok: boolean): void;
}

/**
 * One tenant-day's increments in one command. KEYS[1]: the day's hash. ARGV:
 * expiry (epoch s), '1' to set it whatever the key has, the name of the
 * fractional field, then field/amount pairs. The expiry is also set when the
 * key has none (created anew after a delete), so no day's counters outlive
 * the retention.
 */
export const USAGE_INCREMENT_SCRIPT = `local key = KEYS[1]
for i = 4, #ARGV, 2 do
  if ARGV[i] == ARGV[3] then
    redis.call('HINCRBYFLOAT', key, ARGV[i], ARGV[i + 1])
  else
    redis.call('HINCRBY', key, ARGV[i], ARGV[i + 1])
  end
end
if ARGV[2] == '1' or redis.call('TTL', key) == -1 then
  redis.call('EXPIREAT', key, ARGV[1])
end
return 1`;

/** Days whose expiry this instance remembers having set; older days are forgotten. */
const EXPIRY_DAYS_KEPT = 3;

// The day is a fixed 10 characters, so it can lead the map key without a separator problem.
const entryKey = (tenant: string, day: string) => `${day}${tenant}`;

export class UsageBatch {
  readonly #retentionDays: number;
  #pending = new Map<string, Entry>();
  // Taken out of #pending by the running flush; kept readable so a read during a flush misses nothing.
  #inFlight = new Map<string, Entry>();
  #pendingErrors = new Map<string, number>();
  #inFlightErrors = new Map<string, number>();
  /** Tenants whose key of that day got its expiry from this instance: day → tenants. */
  readonly #expirySet = new Map<string, Set<string>>();

  constructor(retentionDays: number) {
    this.#retentionDays = retentionDays;
  }

  /** Tenant-days (and last-error times) waiting to be written. */
  get size(): number {
    return this.#pending.size + this.#pendingErrors.size;
  }

  add(tenant: string, day: string, counters: Readonly<UsageCounters>): void {
    const entry = entryOf(this.#pending, tenant, day);
    addCounters(entry.counters, counters);
    if (!entry.expire && this.#expirySet.get(day)?.has(tenant) !== true) entry.expire = true;
  }

  noteError(tenant: string, atMs: number): void {
    this.#pendingErrors.set(tenant, Math.max(atMs, this.#pendingErrors.get(tenant) ?? 0));
  }

  /** What this instance holds for the tenant's day that the database may not have yet. */
  unflushed(tenant: string, day: string): UsageCounters {
    const out = zeroCounters();
    for (const map of [this.#pending, this.#inFlight]) {
      const entry = map.get(entryKey(tenant, day));
      if (entry !== undefined) addCounters(out, entry.counters);
    }
    return out;
  }

  /** The latest error time this instance holds for the tenant and may not have written yet. */
  unflushedLastError(tenant: string): number | undefined {
    const times = [this.#pendingErrors.get(tenant), this.#inFlightErrors.get(tenant)].filter((t) => t !== undefined);
    return times.length === 0 ? undefined : Math.max(...times);
  }

  /** Writes everything pending; call one at a time (the recorder serializes flushes). */
  async flush(send: SendCommand, nowMs: number): Promise<FlushOutcome> {
    this.#inFlight = this.#pending;
    this.#pending = new Map();
    this.#inFlightErrors = this.#pendingErrors;
    this.#pendingErrors = new Map();
    const operations = [...this.#counterOperations(), ...this.#errorOperations(nowMs)];
    const results = await Promise.allSettled(
      operations.map((op) =>
        send(op.args).then(
          () => op.settle(true),
          (error: unknown) => {
            op.settle(false);
            throw error;
          },
        ),
      ),
    );
    this.#inFlight = new Map();
    this.#inFlightErrors = new Map();
    const failures = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    return { sent: operations.length, failed: failures.length, ...(failures[0] === undefined ? {} : { error: failures[0].reason }) };
  }

  *#counterOperations(): Generator<Operation> {
    for (const entry of this.#inFlight.values()) {
      const { tenant, day, counters, expire } = entry;
      const delta = { ...counters };
      const pairs: string[] = [];
      for (const field of USAGE_FIELDS) {
        const amount = field === FRACTIONAL_FIELD ? delta[field].toFixed(3) : String(delta[field]);
        if (Number(amount) !== 0) pairs.push(field, amount);
      }
      if (pairs.length === 0 && !expire) continue;
      const key = stateKeys.usageDay(tenant, day);
      yield {
        args: ['EVAL', USAGE_INCREMENT_SCRIPT, '1', key, String(dayExpiresAtSec(day, this.#retentionDays)), expire ? '1' : '0', FRACTIONAL_FIELD, ...pairs],
        // Moved out of the in-flight entry either way: into the database, or back into the pending batch.
        settle: (ok) => {
          for (const field of USAGE_FIELDS) entry.counters[field] -= delta[field];
          if (ok) {
            if (expire) this.#expiryDone(tenant, day);
            return;
          }
          const retry = entryOf(this.#pending, tenant, day);
          addCounters(retry.counters, delta);
          retry.expire ||= expire;
        },
      };
    }
  }

  #expiryDone(tenant: string, day: string): void {
    let tenants = this.#expirySet.get(day);
    if (tenants === undefined) {
      tenants = new Set();
      this.#expirySet.set(day, tenants);
      // Days come in order, so the oldest are the first keys.
      for (const old of [...this.#expirySet.keys()].sort().slice(0, -EXPIRY_DAYS_KEPT)) this.#expirySet.delete(old);
    }
    tenants.add(tenant);
  }

  *#errorOperations(nowMs: number): Generator<Operation> {
    if (this.#inFlightErrors.size === 0) return;
    const key = stateKeys.usageLastErrors();
    for (const [tenant, atMs] of this.#inFlightErrors) {
      // GT: an older time from a slower instance never replaces a newer one.
      yield { args: ['ZADD', key, 'GT', String(atMs), stateKeys.usageLastErrorMember(tenant)], settle: (ok) => (ok ? undefined : this.noteError(tenant, atMs)) };
    }
    // Tenants whose last error is older than the retention drop out, like their daily counters.
    yield { args: ['ZREMRANGEBYSCORE', key, '-inf', `(${nowMs - this.#retentionDays * DAY_MS}`], settle: () => undefined };
  }
}

function entryOf(map: Map<string, Entry>, tenant: string, day: string): Entry {
  const key = entryKey(tenant, day);
  let entry = map.get(key);
  if (entry === undefined) {
    entry = { tenant, day, counters: zeroCounters(), expire: false };
    map.set(key, entry);
  }
  return entry;
}
