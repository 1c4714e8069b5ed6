// Usage gathered in memory between flushes, and the flush itself: one script
// call for many tenant-days (USAGE_KEYS_PER_COMMAND at most), all sent together
// (pipelined), and whatever the database did not take goes back into the batch
// for the next try, so a failed flush loses nothing. The commands of a flush do
// not grow with the tenants that had calls, only with the tenant-days per command.

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
  /** Commands that failed, wholly or for some of their tenant-days; what those carried is back in the batch. */
  failed: number;
  /** The first failure, for the log. */
  error?: unknown;
}

interface Operation {
  args: string[];
  /** Called with the reply, or with `undefined` and the error when the command failed; says what was refused, if anything. */
  settle(reply: unknown, error?: unknown): { refused: unknown } | undefined;
}

type UsageField = (typeof USAGE_FIELDS)[number];

/** One tenant-day in a script call: what it sends (the fields whose amount is not 0, in order) and whether it forces the expiry. */
interface ChunkItem {
  entry: Entry;
  delta: UsageCounters;
  fields: UsageField[];
  expire: boolean;
}

/**
 * Tenant-days one script call writes at most: a few hundred commands inside
 * one script, so the server is never held for more than about a millisecond.
 */
export const USAGE_KEYS_PER_COMMAND = 128;
/** Tenants' last-error times in one ZADD at most. */
const LAST_ERRORS_PER_COMMAND = 512;

/**
 * The increments of many tenant-days in one command. KEYS: the days' hashes.
 * ARGV[1]: the name of the fractional field; then for each key in turn: expiry
 * (epoch s), '1' to set it whatever the key has, the number of field/amount
 * pairs, the pairs. The expiry is also set when the key has none (created
 * anew after a delete), so no day's counters outlive the retention; its TTL
 * is asked only when the key may be new (its first field came out equal to
 * its increment), not on every flush of every key.
 * Every command runs with pcall, so one key the server refuses (out of memory)
 * does not stop the others, and the reply says exactly what was applied: for
 * each key, the pairs applied (in order) and 1 if its expiry is in place; then
 * the first error's text, if there was one.
 */
export const USAGE_INCREMENT_SCRIPT = `local fractional = ARGV[1]
local at = 2
local out = {}
local firstError
local function failed(reply)
  if type(reply) == 'table' and reply.err then
    firstError = firstError or reply.err
    return true
  end
  return false
end
for k = 1, #KEYS do
  local key = KEYS[k]
  local expireAt, force, count = ARGV[at], ARGV[at + 1], tonumber(ARGV[at + 2])
  at = at + 3
  local applied = 0
  local fresh = count == 0
  for i = at, at + 2 * count - 1, 2 do
    local command = 'HINCRBY'
    if ARGV[i] == fractional then command = 'HINCRBYFLOAT' end
    local reply = redis.pcall(command, key, ARGV[i], ARGV[i + 1])
    if failed(reply) then break end
    -- A first field that is now exactly its increment may be in a key just created.
    if applied == 0 then fresh = tonumber(reply) == tonumber(ARGV[i + 1]) end
    applied = applied + 1
  end
  at = at + 2 * count
  local expiry = 1
  if force == '1' or (fresh and redis.pcall('TTL', key) == -1) then
    if failed(redis.pcall('EXPIREAT', key, expireAt)) then expiry = 0 end
  end
  out[#out + 1] = applied
  out[#out + 1] = expiry
end
if firstError then out[#out + 1] = firstError end
return out`;

export interface UsageBatchOptions {
  /**
   * Tenant-days per script call. 1 on a cluster, where the keys of one command
   * must hash to one slot and usage keys spread over all of them.
   */
  keysPerCommand?: number;
}

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
  readonly #keysPerCommand: number;

  constructor(retentionDays: number, options: UsageBatchOptions = {}) {
    this.#retentionDays = retentionDays;
    this.#keysPerCommand = Math.max(1, Math.floor(options.keysPerCommand ?? USAGE_KEYS_PER_COMMAND));
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
    const outcomes = await Promise.all(
      operations.map((op) =>
        send(op.args).then(
          (reply) => op.settle(reply),
          (error: unknown) => op.settle(undefined, error) ?? { refused: error },
        ),
      ),
    );
    this.#inFlight = new Map();
    this.#inFlightErrors = new Map();
    const failures = outcomes.filter((o) => o !== undefined);
    return { sent: operations.length, failed: failures.length, ...(failures[0] === undefined ? {} : { error: failures[0].refused }) };
  }

  *#counterOperations(): Generator<Operation> {
    let chunk: ChunkItem[] = [];
    let perKey: string[] = [];
    for (const entry of this.#inFlight.values()) {
      const delta = { ...entry.counters };
      const fields: UsageField[] = [];
      const pairs: string[] = [];
      for (const field of USAGE_FIELDS) {
        const amount = field === FRACTIONAL_FIELD ? delta[field].toFixed(3) : String(delta[field]);
        if (Number(amount) === 0) continue;
        fields.push(field);
        pairs.push(field, amount);
      }
      if (fields.length === 0 && !entry.expire) continue;
      chunk.push({ entry, delta, fields, expire: entry.expire });
      perKey.push(String(dayExpiresAtSec(entry.day, this.#retentionDays)), entry.expire ? '1' : '0', String(fields.length), ...pairs);
      if (chunk.length >= this.#keysPerCommand) {
        yield this.#counterOperation(chunk, perKey);
        chunk = [];
        perKey = [];
      }
    }
    if (chunk.length > 0) yield this.#counterOperation(chunk, perKey);
  }

  /** One script call for the chunk's tenant-days; `perKey` is their part of ARGV, in order. */
  #counterOperation(chunk: readonly ChunkItem[], perKey: readonly string[]): Operation {
    const keys = chunk.map(({ entry }) => stateKeys.usageDay(entry.tenant, entry.day));
    return {
      args: ['EVAL', USAGE_INCREMENT_SCRIPT, String(keys.length), ...keys, FRACTIONAL_FIELD, ...perKey],
      settle: (reply, error) => {
        // What the script applied per key; a failed command applied nothing, a reply without the report all of it.
        const report = Array.isArray(reply) && reply.length >= 2 * chunk.length ? (reply as unknown[]) : undefined;
        let refused = false;
        chunk.forEach(({ entry, delta, fields, expire }, k) => {
          // Moved out of the in-flight entry either way: into the database, or back into the pending batch.
          for (const field of USAGE_FIELDS) entry.counters[field] -= delta[field];
          const applied = error !== undefined ? 0 : report === undefined ? fields.length : Number(report[2 * k]);
          const expirySet = error === undefined && (report === undefined || Number(report[2 * k + 1]) === 1);
          if (expire && expirySet) this.#expiryDone(entry.tenant, entry.day);
          if (applied >= fields.length && expirySet) return;
          refused = true;
          const retry = entryOf(this.#pending, entry.tenant, entry.day);
          for (const field of fields.slice(applied)) retry.counters[field] += delta[field];
          retry.expire ||= !expirySet;
        });
        if (error !== undefined) return { refused: error };
        if (!refused) return undefined;
        const why = report !== undefined && report.length > 2 * chunk.length ? String(report[2 * chunk.length]) : 'an increment was refused';
        return { refused: new Error(`the database refused part of a usage write (${why})`) };
      },
    };
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
    const all = [...this.#inFlightErrors];
    for (let from = 0; from < all.length; from += LAST_ERRORS_PER_COMMAND) {
      const chunk = all.slice(from, from + LAST_ERRORS_PER_COMMAND);
      // GT: an older time from a slower instance never replaces a newer one.
      const args = ['ZADD', key, 'GT'];
      for (const [tenant, atMs] of chunk) args.push(String(atMs), stateKeys.usageLastErrorMember(tenant));
      yield {
        args,
        settle: (_reply, error) => {
          if (error === undefined) return undefined;
          for (const [tenant, atMs] of chunk) this.noteError(tenant, atMs);
          return { refused: error };
        },
      };
    }
    // Tenants whose last error is older than the retention drop out, like their daily counters.
    yield { args: ['ZREMRANGEBYSCORE', key, '-inf', `(${nowMs - this.#retentionDays * DAY_MS}`], settle: (_reply, error) => (error === undefined ? undefined : { refused: error }) };
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
