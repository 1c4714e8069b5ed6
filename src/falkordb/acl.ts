// TENANT_ISOLATION=acl, put together: the start-up check of the gateway's own user,
// the tenants' users, and the pool of connections logged in as them.

import type { Config } from '../config/index.js';
import { GatewayError } from '../errors.js';
import type { Logger } from '../logger.js';
import { checkGatewayUserRights } from './acl-check.js';
import { createTenantConnections, withoutCredentials, type TenantConnections } from './acl-pool.js';
import { singleNode, TenantUsers, type UserNode, type UserNodes } from './acl-users.js';
import { ClusterDatabase } from './cluster-database.js';
import type { Database } from './database.js';
import { readEmbeddedState } from './launcher.js';
import { replicaNodesOf } from './replicas.js';

export interface TenantIsolation {
  users: TenantUsers;
  connections: TenantConnections;
  close(): Promise<void>;
}

/** Commands a tenant's user gets on a cluster on top of the usual ones: ASKING, which follows a slot being migrated. */
export const CLUSTER_EXTRA_COMMANDS = ['asking'] as const;

/**
 * The server tenant connections go to, without the gateway's own credentials (on a
 * cluster: its first seed, for messages; the pool reads the rest of the cluster itself).
 */
export function tenantEndpoint(config: Config): string {
  const { clusterUrls, sentinel } = config.falkordb;
  if (sentinel !== undefined) {
    throw new GatewayError(
      'CONFIG_INVALID',
      "TENANT_ISOLATION=acl does not yet work with FALKORDB_SENTINELS: after a failover the tenants' database users would have to exist on the new primary, which nothing ensures yet. Use TENANT_ISOLATION=prefix there, or FALKORDB_URL with FALKORDB_REPLICA_URLS, or a cluster (see docs/security.md).",
      { variable: 'TENANT_ISOLATION' },
    );
  }
  const url = clusterUrls?.[0] ?? config.falkordb.url ?? readEmbeddedState(config.falkordb.dataDir)?.url;
  if (url === undefined) {
    throw new GatewayError(
      'CONFIG_INVALID',
      'TENANT_ISOLATION=acl needs one FalkorDB server to log tenants in to: set FALKORDB_URL, or leave it unset for the embedded server (see docs/security.md).',
      { variable: 'TENANT_ISOLATION' },
    );
  }
  return url.startsWith('/') ? url : withoutCredentials(url);
}

/**
 * Every node of the gateway's database the tenants' users must exist on (ACL rules are
 * not replicated): the server alone; the primary, then each replica serving reads
 * (named after the times it joined, so one that came back gets the users again); or
 * every node of a cluster.
 */
export function userNodesOf(db: Database): () => UserNodes | Promise<UserNodes> {
  const router = replicaNodesOf(db);
  if (router !== undefined) {
    return () => {
      const { primary, replicas } = router.nodes();
      const reachable: UserNode[] = [{ id: primary.address, db: primary, required: true }];
      const unreachable: string[] = [];
      for (const replica of replicas) {
        if (replica.db !== undefined && replica.inRotation) reachable.push({ id: `${replica.address}#${replica.joins}`, db: replica.db, required: false });
        else unreachable.push(replica.address);
      }
      return { reachable, unreachable };
    };
  }
  if (db instanceof ClusterDatabase) {
    // Every primary takes tenant calls for its slots: a failure on one is the caller's. A replica's
    // is logged, and it gets the user on a later call.
    return async () => ({ reachable: (await db.everyNode()).map((node) => ({ id: node.address, db: node, required: node.primary })), unreachable: [] });
  }
  return () => singleNode(db);
}

/** The tenants' users on the gateway's database; for commands that manage them (tenant disable, enable, remove). */
export function tenantUsersFor(config: Config, db: Database, logger: Logger): TenantUsers {
  const secret = config.isolation.aclUserSecret;
  if (secret === undefined) throw new GatewayError('CONFIG_INVALID', 'ACL_USER_SECRET is required with TENANT_ISOLATION=acl.', { variable: 'ACL_USER_SECRET' });
  const extraCommands = config.falkordb.clusterUrls === undefined ? [] : CLUSTER_EXTRA_COMMANDS;
  return new TenantUsers({ secret, nodes: userNodesOf(db), extraCommands, logger });
}

/** Checks the gateway's own rights, then opens the pool; throws DATABASE_PERMISSION_MISSING naming what is missing. */
export async function openTenantIsolation(config: Config, db: Database, logger: Logger): Promise<TenantIsolation> {
  const endpoint = tenantEndpoint(config);
  await checkGatewayUserRights((await userNodesOf(db)()).reachable.map((node) => node.db));
  const users = tenantUsersFor(config, db, logger);
  const replicas = replicaNodesOf(db);
  const connections = createTenantConnections({
    endpoint,
    ...(config.falkordb.clusterUrls === undefined ? {} : { clusterSeeds: config.falkordb.clusterUrls }),
    ...(replicas === undefined ? {} : { replicas }),
    users,
    maxConnections: config.isolation.aclPoolMax,
    maxPerTenant: config.limits.maxConcurrentPerTenant,
    moduleVersion: db.moduleVersion,
    logger,
    connectTimeoutMs: Math.min(config.falkordb.connectTimeoutMs, 5_000) || 5_000,
  });
  logger.info({ poolMax: config.isolation.aclPoolMax }, 'tenant isolation: database users per tenant (TENANT_ISOLATION=acl)');
  return { users, connections, close: () => connections.close() };
}
