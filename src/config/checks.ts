// Checks across variables, run once each has parsed on its own: settings that
// need each other, and ways to name the database that cannot be combined.

import { GatewayError } from '../errors.js';
import { UPSTREAM_RULES_EXAMPLE } from '../tenancy/upstream-rules.js';
import { configError, given, type Env } from './raw-values.js';
import type { Values } from './schema.js';
import { secretFileVariable } from './variables.js';

/** Other ways to name the database, each of which excludes FALKORDB_CLUSTER_URLS. */
const NOT_WITH_CLUSTER = ['FALKORDB_URL', 'FALKORDB_REPLICA_URLS', 'FALKORDB_SENTINELS'];

/** A cluster is named by its seeds alone. */
export function checkCluster(v: Values, env: Env): void {
  if (v.FALKORDB_CLUSTER_URLS === undefined) return;
  const other = NOT_WITH_CLUSTER.find((name) => given(env[name]) !== undefined || given(env[secretFileVariable(name)]) !== undefined);
  if (other !== undefined) {
    throw new GatewayError(
      'CONFIG_INVALID',
      `FALKORDB_CLUSTER_URLS and ${other} are both set; set only one: a cluster's nodes are found from its seeds, and each shard's replicas and failover are the cluster's own.`,
      { variable: 'FALKORDB_CLUSTER_URLS' },
    );
  }
}

/** Dev mode signs its own demo tokens, so it must not be reachable from other machines: say both ways out. */
export function devModeHostMessage(host: string): string {
  return (
    `HOST (got ${JSON.stringify(host)}) is not a loopback address, and dev mode (self-signed demo tokens, used when no verification key is set) only runs on loopback. ` +
    'To serve other machines, set a verification key: AUTH_JWT_SECRET (or AUTH_JWT_SECRET_FILE), AUTH_PUBLIC_KEY_FILE, AUTH_JWKS_URL or AUTH_SIGNING_KEY_FILE. ' +
    'To stay in dev mode, listen on loopback, for example HOST=127.0.0.1.'
  );
}

const UPSTREAM_PARTS = ['OAUTH_UPSTREAM_CLIENT_ID', 'OAUTH_UPSTREAM_CLIENT_SECRET', 'OAUTH_UPSTREAM_TENANTS', 'OAUTH_UPSTREAM_NAME'] as const;

/** Federation needs its three parts together, and a gateway that runs its own authorization server. */
export function checkUpstream(v: Values, devMode: boolean): void {
  if (v.OAUTH_UPSTREAM_ISSUER === undefined) {
    const stray = UPSTREAM_PARTS.find((name) => v[name] !== undefined);
    if (stray !== undefined) throw new GatewayError('CONFIG_INVALID', `${stray} is only used with OAUTH_UPSTREAM_ISSUER; set OAUTH_UPSTREAM_ISSUER to the OpenID provider people sign in at, or unset ${stray}.`, { variable: stray });
    return;
  }
  if (v.OAUTH_UPSTREAM_CLIENT_ID === undefined) {
    throw configError('OAUTH_UPSTREAM_CLIENT_ID', undefined, 'is required with OAUTH_UPSTREAM_ISSUER (the client id the provider gave the gateway)', 'falkordb-mcp-gateway', false);
  }
  if (v.OAUTH_UPSTREAM_TENANTS === undefined) {
    throw configError('OAUTH_UPSTREAM_TENANTS', undefined, 'is required with OAUTH_UPSTREAM_ISSUER (which tenant and scopes a sign-in there grants)', `"${UPSTREAM_RULES_EXAMPLE}"`, false);
  }
  if (!v.OAUTH_SERVER) {
    throw new GatewayError('CONFIG_INVALID', 'OAUTH_UPSTREAM_ISSUER is set but OAUTH_SERVER is false; the upstream sign-in is a step of the gateway\'s own authorization server. Set OAUTH_SERVER=true, or unset OAUTH_UPSTREAM_ISSUER.', { variable: 'OAUTH_UPSTREAM_ISSUER' });
  }
  if (v.AUTH_SIGNING_KEY_FILE === undefined && !devMode) {
    throw new GatewayError('CONFIG_INVALID', 'OAUTH_UPSTREAM_ISSUER is set but the gateway does not sign its own tokens, so it has no authorization server for people to sign in through; set AUTH_SIGNING_KEY_FILE (keys generate makes one), or unset OAUTH_UPSTREAM_ISSUER.', { variable: 'OAUTH_UPSTREAM_ISSUER' });
  }
}


/** The ways to name the database that cannot be combined, refused with what to do instead. */
export function checkTopology(v: Values): void {
  const sentinels = v.FALKORDB_SENTINELS !== undefined;
  if (sentinels && v.FALKORDB_SENTINEL_MASTER === undefined) {
    throw configError('FALKORDB_SENTINEL_MASTER', undefined, 'is required with FALKORDB_SENTINELS (the name the sentinels monitor the primary by)', 'falkordb', false);
  }
  if (!sentinels && v.FALKORDB_SENTINEL_MASTER !== undefined) {
    throw configError('FALKORDB_SENTINELS', undefined, 'is required with FALKORDB_SENTINEL_MASTER (the sentinels\' addresses, comma-separated host:port)', 'sentinel-1:26379,sentinel-2:26379', false);
  }
  if (sentinels && v.FALKORDB_URL !== undefined) {
    throw new GatewayError('CONFIG_INVALID', 'FALKORDB_URL and FALKORDB_SENTINELS are both set; set only one: with sentinels the gateway asks them where the primary is. Put the data nodes\' password in FALKORDB_SENTINEL_DATA_PASSWORD.', { variable: 'FALKORDB_SENTINELS' });
  }
  if (sentinels && v.FALKORDB_REPLICA_URLS !== undefined) {
    throw new GatewayError('CONFIG_INVALID', 'FALKORDB_REPLICA_URLS and FALKORDB_SENTINELS are both set; with sentinels every call goes to the primary the sentinels name, and the replicas stand by for failover. Unset FALKORDB_REPLICA_URLS.', { variable: 'FALKORDB_REPLICA_URLS' });
  }
  if (!sentinels) {
    for (const name of ['FALKORDB_SENTINEL_DATA_PASSWORD', 'FALKORDB_SENTINEL_PASSWORD'] as const) {
      if (v[name] !== undefined) {
        throw new GatewayError('CONFIG_INVALID', `${name} is only used with FALKORDB_SENTINELS; with FALKORDB_URL put the password in the URL (redis://:PASSWORD@host:port).`, { variable: name });
      }
    }
  }
  if (v.FALKORDB_REPLICA_URLS !== undefined && v.FALKORDB_REPLICA_URLS.length > 0) {
    if (v.FALKORDB_URL === undefined) {
      throw new GatewayError('CONFIG_INVALID', 'FALKORDB_REPLICA_URLS is set but FALKORDB_URL is not; replicas need the primary they replicate, named in FALKORDB_URL.', { variable: 'FALKORDB_REPLICA_URLS' });
    }
    const primary = sameServerKey(v.FALKORDB_URL);
    const seen = new Set<string>();
    for (const [index, url] of v.FALKORDB_REPLICA_URLS.entries()) {
      const key = sameServerKey(url);
      if (key === primary) throw new GatewayError('CONFIG_INVALID', `FALKORDB_REPLICA_URLS entry number ${index + 1} is the primary of FALKORDB_URL itself; list only its replicas.`, { variable: 'FALKORDB_REPLICA_URLS' });
      if (seen.has(key)) throw new GatewayError('CONFIG_INVALID', `FALKORDB_REPLICA_URLS entry number ${index + 1} names a replica listed before it; list each replica once.`, { variable: 'FALKORDB_REPLICA_URLS' });
      seen.add(key);
    }
  }
}

/** host:port of a server URL (the path for a unix socket), to spot one server listed twice. */
function sameServerKey(url: string): string {
  if (url.startsWith('/')) return url;
  const u = new URL(url);
  return `${u.hostname.toLowerCase()}:${u.port || '6379'}`;
}
