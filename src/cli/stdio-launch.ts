// How a desktop client starts `stdio` on this machine: the node binary, the
// CLI entry and every path in the environment made absolute, because a client
// starts its servers from a working folder of its own choosing.

import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Config } from '../config/index.js';

/** A command a client runs, with its arguments and environment. */
export interface StdioLaunch {
  command: string;
  args: string[];
  env: Record<string, string>;
}

/**
 * What the stdio server reads besides the tenant, passed on when set here:
 * where the data is, how isolation, registration and auditing work, and the
 * query limits. Listener, token and metrics settings do not apply to stdio.
 */
const PASSED_ON = [
  'FALKORDB_URL',
  'FALKORDB_CLUSTER_URLS',
  'FALKORDB_SERVER_BIN',
  'FALKORDB_CONNECT_TIMEOUT_MS',
  'FALKORDB_REPLICA_URLS',
  'FALKORDB_READ_AFTER_WRITE_MS',
  'FALKORDB_SENTINELS',
  'FALKORDB_SENTINEL_MASTER',
  'FALKORDB_SENTINEL_PASSWORD',
  'FALKORDB_SENTINEL_DATA_PASSWORD',
  'FALKORDB_SENTINEL_MIN_REPLICAS',
  'FALKORDB_SENTINEL_WAIT_TIMEOUT_MS',
  'FALKORDB_SENTINEL_FAILOVER_WAIT_MS',
  'TENANTS_REQUIRE_REGISTRATION',
  'TENANT_ISOLATION',
  'ACL_USER_SECRET',
  'ACL_POOL_MAX',
  'QUERY_TIMEOUT_MS',
  'QUERY_MEMORY_MAX_BYTES',
  'DATABASE_LIMITS',
  'MAX_ROWS',
  'MAX_RESULT_BYTES',
  'MAX_REPLY_BYTES',
  'MAX_QUERY_LENGTH',
  'ALLOW_LOAD_CSV',
  'MAX_PARAMETERS_BYTES',
  'TENANT_STORAGE_QUOTA_BYTES',
  'TENANT_STORAGE_CHECK_MS',
  'SCHEMA_CACHE_TTL_MS',
  'QUERY_CACHE_TTL_MS',
  'QUERY_CACHE_MAX_BYTES',
  'AUDIT_QUERY_TEXT',
  'AUDIT_LOG_FILE',
  'AUDIT_STREAM_MAXLEN',
  'AUDIT_BUFFER_MAX',
  'USAGE_RETENTION_DAYS',
] as const;

/** Values that name a file or folder on this machine. */
const PATH_VALUED = new Set(['FALKORDB_SERVER_BIN', 'AUDIT_LOG_FILE']);

/** The same value, made absolute against `cwd` when it is a path (a unix socket FALKORDB_URL is one). */
function absoluteValue(name: string, value: string, cwd: string): string {
  const isPath = PATH_VALUED.has(name) || name.endsWith('_FILE') || (name === 'FALKORDB_URL' && !/^[a-z][a-z0-9+.-]*:/i.test(value));
  return isPath ? path.resolve(cwd, value) : value;
}

/** The variables the stdio entry carries: those set here, paths made absolute, and the embedded data folder when no server is named. */
export function stdioEnvironment(env: NodeJS.ProcessEnv, config: Config, cwd: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of PASSED_ON) {
    for (const variable of [name, `${name}_FILE`]) {
      const value = env[variable];
      if (value !== undefined && value !== '') out[variable] = absoluteValue(variable, value, cwd);
    }
  }
  const { url, clusterUrls, sentinel, dataDir } = config.falkordb;
  // Without it a client's working folder decides, and a new empty database appears there.
  if (url === undefined && clusterUrls === undefined && sentinel === undefined) out['FALKORDB_DATA_DIR'] = path.resolve(cwd, dataDir);
  return out;
}

/**
 * This CLI as it runs now: the built entry under node, or, in a checkout, the
 * TypeScript entry under node with tsx loaded by its absolute location (a bare
 * `--import tsx` would be looked up from the client's working folder).
 */
export function cliInvocation(): { command: string; args: string[] } {
  const here = fileURLToPath(import.meta.url);
  const entry = path.join(path.dirname(here), `index${path.extname(here)}`);
  if (path.extname(here) === '.ts') return { command: process.execPath, args: ['--import', import.meta.resolve('tsx'), entry] };
  return { command: process.execPath, args: [entry] };
}

export function stdioLaunch(env: NodeJS.ProcessEnv, config: Config, options: { tenant: string; scope: string; cwd: string }): StdioLaunch {
  const cli = cliInvocation();
  return {
    command: cli.command,
    args: [...cli.args, 'stdio', '--tenant', options.tenant, '--scope', options.scope],
    env: stdioEnvironment(env, config, options.cwd),
  };
}
