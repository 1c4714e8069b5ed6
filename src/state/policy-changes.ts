// The one instance-wide record of changes to what the access policy reads
// (tenant records, revocation markers): a stream every writer appends to in the
// same script as its write, naming the tenant or token it changed. Instances
// keep the policy in memory and read this stream instead of the records
// themselves on every call (src/auth/policy-watch.ts).

import type { RespValue } from '../falkordb/database.js';
import { stateKeys } from './keys.js';
import type { StateStore } from './store.js';

/**
 * How long an entry stays in the stream (server time). An instance that last read it
 * longer ago than half of this starts over (see PolicyWatch), so nothing it missed can
 * have been trimmed away unseen.
 */
export const CHANGE_RETENTION_MS = 10 * 60_000;

/** What a write changed: one tenant's record or cut-offs, or one token's revocation. */
export type PolicyChange = { tenant: string } | { jti: string };

export interface ChangeEntry {
  /** Stream entry id; ids only grow. */
  id: string;
  /** Undefined for an entry this version cannot read: the reader then assumes everything changed. */
  change: PolicyChange | undefined;
}

// Appends the change, trimming entries older than the retention by the server's clock
// (writers' clocks may differ). `stream`: the KEYS entry of the stream. ARGV: field, value, retention ms.
const append = (stream: string) => `local now = redis.call('TIME')
local oldest = tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000) - tonumber(ARGV[3])
redis.call('XADD', ${stream}, 'MINID', '~', string.format('%d', oldest), '*', ARGV[1], ARGV[2])`;

// KEYS: the key written, the stream. ARGV: field, value, retention ms, the write command's name, its arguments after the key.
// A write that did nothing (SET … NX on an existing key) notes nothing.
const WRITE_NOTING = `local reply = redis.call(ARGV[4], KEYS[1], unpack(ARGV, 5))
if reply then
${append('KEYS[2]')}
end
return reply`;

// KEYS: the record, the stream. ARGV: field, value, retention ms, expected, next.
const REPLACE_IF_UNCHANGED_NOTING = `if redis.call('GET', KEYS[1]) ~= ARGV[4] then return 0 end
redis.call('SET', KEYS[1], ARGV[5])
${append('KEYS[2]')}
return 1`;

// The same append on its own, for a Cluster (see appendAfter). KEYS[1]: the stream.
const APPEND_ONLY = `${append('KEYS[1]')}
return 1`;

function changeArgs(change: PolicyChange): [string, string, string] {
  return 'tenant' in change ? ['tenant', change.tenant, String(CHANGE_RETENTION_MS)] : ['jti', change.jti, String(CHANGE_RETENTION_MS)];
}

/**
 * On a Cluster the record and the stream live on different shards, so the change is
 * appended right after the write instead of in the same script. A writer that dies in
 * between leaves a change that instances see only when their entry for it runs out of
 * age (AccessPolicyOptions.maxAgeMs).
 */
async function appendAfter(store: StateStore, change: PolicyChange): Promise<void> {
  const stream = stateKeys.policyChanges();
  await store.command(['EVAL', APPEND_ONLY, '1', stream, ...changeArgs(change)]);
}

/**
 * Runs one write command (`[name, key, ...args]`) and notes `change` in the same script,
 * so no instance can see the one without the other. Returns the command's reply.
 */
export async function writeNoting(store: StateStore, change: PolicyChange, command: readonly [string, string, ...string[]]): Promise<RespValue> {
  const [name, key, ...args] = command;
  if (store.sharded) {
    const reply = await store.command(command);
    if (reply !== null) await appendAfter(store, change);
    return reply;
  }
  return store.command(['EVAL', WRITE_NOTING, '2', key, stateKeys.policyChanges(), ...changeArgs(change), name, ...args]);
}

/** StateStore.replaceIfUnchanged, noting `change` when it wrote (use that, with `noting`). */
export async function replaceNoting(store: StateStore, change: PolicyChange, key: string, expected: string, next: string): Promise<boolean> {
  if (store.sharded) {
    const replaced = await store.replaceIfUnchanged(key, expected, next);
    if (replaced) await appendAfter(store, change);
    return replaced;
  }
  return Number(await store.command(['EVAL', REPLACE_IF_UNCHANGED_NOTING, '2', key, stateKeys.policyChanges(), ...changeArgs(change), expected, next])) === 1;
}

function parseEntry(raw: RespValue): ChangeEntry | undefined {
  if (!Array.isArray(raw) || typeof raw[0] !== 'string') return undefined;
  const fields = Array.isArray(raw[1]) ? raw[1] : [];
  const [field, value] = fields;
  const change: PolicyChange | undefined =
    typeof value !== 'string' ? undefined
    : field === 'tenant' ? { tenant: value }
    : field === 'jti' ? { jti: value }
    : undefined;
  return { id: raw[0], change };
}

function parseEntries(reply: RespValue): ChangeEntry[] {
  return (Array.isArray(reply) ? reply : []).flatMap((raw) => {
    const entry = parseEntry(raw);
    return entry === undefined ? [] : [entry];
  });
}

/** The newest entry, if the stream has any. */
export async function newestPolicyChange(store: StateStore): Promise<ChangeEntry | undefined> {
  return parseEntries(await store.command(['XREVRANGE', stateKeys.policyChanges(), '+', '-', 'COUNT', '1']))[0];
}

/** Up to `count` entries from `from` on, `from` itself included when it is still there. */
export async function policyChangesFrom(store: StateStore, from: string, count: number): Promise<ChangeEntry[]> {
  return parseEntries(await store.command(['XRANGE', stateKeys.policyChanges(), from, '+', 'COUNT', String(count)]));
}
