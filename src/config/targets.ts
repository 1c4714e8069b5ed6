// The databases a tenant can be placed on besides the shared one
// (DATABASE_TARGETS): each named target is read from its own variables,
// DATABASE_TARGET_<NAME>_URL and the rest, with the parsers and checks of the
// FALKORDB_ variables of the same names, and errors that name the target's own.

import { GatewayError } from '../errors.js';
import { checkTopology } from './checks.js';
import { configError, readRawValue, type Env } from './raw-values.js';
import { SCHEMA, type Values } from './schema.js';
import type { DatabaseTarget, SentinelConfig } from './types.js';
import { CONFIG_VARIABLES, isSecretVariable, type ConfigVariable } from './variables.js';

/** What names the shared database, the gateway's own, in `tenant add --database` and `tenant move --to`. */
export const DEFAULT_TARGET = 'default';

/** The FALKORDB_ variables a target has its own of; the rest (timeouts, Sentinel's write wait) are the shared ones. */
const OWN = ['URL', 'CLUSTER_URLS', 'REPLICA_URLS', 'SENTINELS', 'SENTINEL_MASTER', 'SENTINEL_PASSWORD', 'SENTINEL_DATA_PASSWORD'] as const;

/** `dedicated-1` → `DATABASE_TARGET_DEDICATED_1_`. */
export function targetVariablePrefix(name: string): string {
  return `DATABASE_TARGET_${name.toUpperCase().replace(/-/g, '_')}_`;
}

/** Whether `name` is one of a target's own variables (or its `_FILE` form), for any target. */
export function isTargetVariable(name: string): boolean {
  return new RegExp(`^DATABASE_TARGET_[A-Z0-9_]+_(${OWN.join('|')})(_FILE)?$`).test(name);
}

type Own = (typeof OWN)[number];

function baseVariable(suffix: Own): ConfigVariable {
  const found = CONFIG_VARIABLES.find((v) => v.name === `FALKORDB_${suffix}`);
  if (found === undefined) throw new Error(`no FALKORDB_${suffix}`);
  return found;
}

/** One target's variables parsed, checked together as FALKORDB_'s are, with every message naming the target's variables. */
function readTarget(name: string, env: Env, shared: Values): DatabaseTarget {
  const prefix = targetVariablePrefix(name);
  const values: Record<string, unknown> = {};
  for (const suffix of OWN) {
    const base = baseVariable(suffix);
    const variable: ConfigVariable = { ...base, name: `${prefix}${suffix}` };
    const raw = readRawValue(variable, env);
    if (raw.text === undefined) continue;
    const parsed = SCHEMA[base.name as keyof typeof SCHEMA].safeParse(raw.text);
    if (!parsed.success) throw configError(raw.variable, raw.text, parsed.error.issues[0]?.message ?? 'is not valid', raw.example, isSecretVariable(base));
    values[`FALKORDB_${suffix}`] = parsed.data;
  }
  const v = values as Partial<Values>;
  const ways = [v.FALKORDB_URL, v.FALKORDB_CLUSTER_URLS, v.FALKORDB_SENTINELS].filter((way) => way !== undefined).length;
  if (ways === 0) {
    throw new GatewayError(
      'CONFIG_INVALID',
      `DATABASE_TARGETS names "${name}", but none of ${prefix}URL, ${prefix}CLUSTER_URLS or ${prefix}SENTINELS (or their _FILE forms) is set; give the target's address, for example ${prefix}URL=redis://:secret@db-${name}:6379, or remove "${name}" from DATABASE_TARGETS.`,
      { variable: `${prefix}URL` },
    );
  }
  if (v.FALKORDB_CLUSTER_URLS !== undefined && ways > 1) {
    throw new GatewayError('CONFIG_INVALID', `${prefix}CLUSTER_URLS and another address of target "${name}" are both set; set only one: a cluster's nodes are found from its seeds.`, { variable: `${prefix}CLUSTER_URLS` });
  }
  try {
    checkTopology({ ...v, FALKORDB_SENTINEL_MIN_REPLICAS: shared.FALKORDB_SENTINEL_MIN_REPLICAS } as Values);
  } catch (error) {
    if (!(error instanceof GatewayError)) throw error;
    // The shared checks word their messages with the FALKORDB_ names; here they are the target's.
    const rename = (text: string) => text.replace(/\bFALKORDB_(?=[A-Z])/g, prefix);
    throw new GatewayError('CONFIG_INVALID', rename(error.message), { variable: rename(error.details['variable'] ?? `${prefix}URL`) });
  }
  return {
    url: v.FALKORDB_URL,
    clusterUrls: v.FALKORDB_CLUSTER_URLS,
    replicaUrls: v.FALKORDB_REPLICA_URLS ?? [],
    sentinel: sentinelConfig(v, shared),
  };
}

/** The Sentinel group `own` names (its sentinels, master name, passwords), with the write waits of `shared`; undefined without one. */
export function sentinelConfig(own: Partial<Values>, shared: Values): SentinelConfig | undefined {
  if (own.FALKORDB_SENTINELS === undefined || own.FALKORDB_SENTINEL_MASTER === undefined) return undefined;
  return {
    nodes: own.FALKORDB_SENTINELS,
    masterName: own.FALKORDB_SENTINEL_MASTER,
    sentinelPassword: own.FALKORDB_SENTINEL_PASSWORD,
    password: own.FALKORDB_SENTINEL_DATA_PASSWORD,
    minReplicas: shared.FALKORDB_SENTINEL_MIN_REPLICAS,
    waitTimeoutMs: shared.FALKORDB_SENTINEL_WAIT_TIMEOUT_MS,
    failoverWaitMs: shared.FALKORDB_SENTINEL_FAILOVER_WAIT_MS,
  };
}

/** Every target DATABASE_TARGETS names, by name; a target's variable set without its name in the list is refused (a typo would go unnoticed). */
export function readTargets(env: Env, shared: Values): Record<string, DatabaseTarget> {
  const names = shared.DATABASE_TARGETS ?? [];
  const prefixes = new Map(names.map((name) => [targetVariablePrefix(name), name]));
  if (prefixes.size !== names.length) {
    throw new GatewayError('CONFIG_INVALID', 'DATABASE_TARGETS names two targets whose variables would have the same name (`-` and `_` are the same there); rename one.', { variable: 'DATABASE_TARGETS' });
  }
  for (const [variable, value] of Object.entries(env)) {
    if (value === undefined || value === '' || !variable.startsWith('DATABASE_TARGET_')) continue;
    const own = (prefix: string) => OWN.some((suffix) => variable === `${prefix}${suffix}` || variable === `${prefix}${suffix}_FILE`);
    const listed = [...prefixes.keys()].filter((prefix) => variable.startsWith(prefix));
    if (listed.some(own)) {
      // one of a listed target's own: read by readTarget
    } else if (listed.length > 0 || !isTargetVariable(variable)) {
      // A misspelt suffix (DATABASE_TARGET_ACME_REPLICA_URL) would leave a setting, or the address itself, unread.
      throw new GatewayError('CONFIG_INVALID', `${variable} is set, but no target variable has that name; a target's variables are DATABASE_TARGET_<NAME>_ followed by ${OWN.join(', ')} (the secrets also with _FILE). Correct the name, or unset it.`, { variable });
    } else {
      throw new GatewayError('CONFIG_INVALID', `${variable} is set, but DATABASE_TARGETS names no target it belongs to (${names.length === 0 ? 'DATABASE_TARGETS is unset' : `it names ${names.join(', ')}`}); add the target's name to DATABASE_TARGETS, or unset ${variable}.`, { variable });
    }
    // Only secrets are read from files (readRawValue); any other _FILE would be silently left unread.
    const unread = OWN.find((suffix) => variable.endsWith(`_${suffix}_FILE`) && !isSecretVariable(baseVariable(suffix)));
    if (unread !== undefined) {
      const direct = variable.slice(0, -'_FILE'.length);
      throw new GatewayError('CONFIG_INVALID', `${variable} is not read: only secrets have a _FILE form; set ${direct} itself.`, { variable });
    }
  }
  return Object.fromEntries(names.map((name) => [name, readTarget(name, env, shared)]));
}
