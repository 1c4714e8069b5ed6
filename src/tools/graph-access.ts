// The graph operations a caller's tool calls run on. One function builds them for
// every transport (HTTP, SSE, stdio), so a layer added here (a cache, a database
// user of the caller's tenant) covers all of them.

import type { StorageQuota } from '../admission/storage-quota.js';
import type { Principal } from '../tenancy/principal.js';
import type { GraphCache } from '../cache/graph-cache.js';
import type { TenantConnections } from '../falkordb/acl-pool.js';
import type { GraphClient, GraphOperations } from '../falkordb/graphs.js';
import { queryOnlyRemoves } from '../falkordb/query-mode.js';

/** Returns the graph operations for one caller. */
export type GraphAccess = (principal: Principal) => GraphOperations;

export interface GraphAccessDeps {
  /** Graph operations on the gateway's own database connection. */
  graphs: GraphClient;
  /** Caches of the tenant's schemas, graph list and read results, invalidated by its writes; outermost layer. */
  cache?: GraphCache;
  /**
   * TENANT_ISOLATION=acl: queries, schema reads and deletes run on a connection logged in as the
   * caller's tenant's database user; listing (SCAN) stays on the gateway's own, filtered as always.
   */
  tenantConnections?: TenantConnections | undefined;
  /** The storage quota: a query that runs as a write and may add data is refused while its tenant is over it. */
  storage?: StorageQuota | undefined;
}

/** Reads and writes that only delete always run, so a tenant over its quota can free room. */
function underQuota(storage: StorageQuota, tenant: string, graphs: GraphOperations): GraphOperations {
  return {
    query: async (q) => {
      if (!q.readOnly && !queryOnlyRemoves(q.query)) await storage.assertRoom(tenant);
      return graphs.query(q);
    },
    schema: (key, timeoutMs) => graphs.schema(key, timeoutMs),
    deleteGraph: (key) => graphs.deleteGraph(key),
    listKeys: (prefix) => graphs.listKeys(prefix),
    get database() {
      return graphs.database;
    },
  };
}

function asTenantUser(connections: TenantConnections, tenant: string, own: GraphClient): GraphOperations {
  return {
    query: (q) => connections.use(tenant, (graphs) => graphs.query(q)),
    schema: (key, timeoutMs) => connections.use(tenant, (graphs) => graphs.schema(key, timeoutMs)),
    deleteGraph: (key) => connections.use(tenant, (graphs) => graphs.deleteGraph(key)),
    listKeys: (prefix) => own.listKeys(prefix),
    get database() {
      return own.database;
    },
  };
}

export function createGraphAccess(deps: GraphAccessDeps): GraphAccess {
  const withCache = (principal: Principal, graphs: GraphOperations): GraphOperations => (deps.cache === undefined ? graphs : deps.cache.wrap(principal.tenant, graphs));
  const connections = deps.tenantConnections;
  const base = (principal: Principal): GraphOperations => (connections === undefined ? deps.graphs : asTenantUser(connections, principal.tenant, deps.graphs));
  const storage = deps.storage;
  const withQuota = (principal: Principal, graphs: GraphOperations): GraphOperations => (storage === undefined ? graphs : underQuota(storage, principal.tenant, graphs));
  return (principal) => withCache(principal, withQuota(principal, base(principal)));
}
