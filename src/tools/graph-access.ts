// The graph operations a caller's tool calls run on, built in one place for
// every transport (HTTP, SSE, stdio). The layers, from the tool inwards:
//
//   1. cache        schemas, the graph list and read results of the caller's tenant, each
//                   checked against its version token; a hit ends here, so it takes no query slot
//   2. concurrency  the tenant's and the instance's query slots (HTTP and SSE; stdio has one caller)
//   3. storage      a write that may add data (or a new constraint) is refused while the tenant is over its quota
//   4. connection   the tenant's database user (TENANT_ISOLATION=acl), else the gateway's own
//
// In front of all of them, in the tool call itself, run the tenant's rate limit
// (ToolServices.admit, in tools/call.ts), the token's scopes, the tenant's graph rules and the
// one key-building function (tenancy/keys.ts): a cached answer passes them too.

import type { ConcurrencyGate } from '../admission/concurrency.js';
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
  /** Caches of the tenant's schemas, graph list and read results, invalidated by its writes. */
  cache?: GraphCache | undefined;
  /** The caps on queries running at once; absent where one caller has the gateway to itself (stdio). */
  concurrency?: Pick<ConcurrencyGate, 'wrap'> | undefined;
  /**
   * TENANT_ISOLATION=acl: queries, plans, schema reads, constraints and deletes run on a connection logged in as the
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
    explain: (q) => graphs.explain(q),
    schema: (key, timeoutMs) => graphs.schema(key, timeoutMs),
    // A constraint adds little, but a unique one may build an index: like a write, refused over the quota.
    createConstraint: async (key, spec, timeoutMs) => {
      await storage.assertRoom(tenant);
      return graphs.createConstraint(key, spec, timeoutMs);
    },
    dropConstraint: (key, spec, timeoutMs) => graphs.dropConstraint(key, spec, timeoutMs),
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
    explain: (q) => connections.use(tenant, (graphs) => graphs.explain(q)),
    schema: (key, timeoutMs) => connections.use(tenant, (graphs) => graphs.schema(key, timeoutMs)),
    createConstraint: (key, spec, timeoutMs) => connections.use(tenant, (graphs) => graphs.createConstraint(key, spec, timeoutMs)),
    dropConstraint: (key, spec, timeoutMs) => connections.use(tenant, (graphs) => graphs.dropConstraint(key, spec, timeoutMs)),
    deleteGraph: (key) => connections.use(tenant, (graphs) => graphs.deleteGraph(key)),
    listKeys: (prefix) => own.listKeys(prefix),
    get database() {
      return own.database;
    },
  };
}

export function createGraphAccess(deps: GraphAccessDeps): GraphAccess {
  const { cache, concurrency, storage, tenantConnections } = deps;
  // Built from the inside out: 4, 3, 2, 1 of the list at the top of this file.
  return (principal) => {
    const tenant = principal.tenant;
    let graphs: GraphOperations = tenantConnections === undefined ? deps.graphs : asTenantUser(tenantConnections, tenant, deps.graphs);
    if (storage !== undefined) graphs = underQuota(storage, tenant, graphs);
    if (concurrency !== undefined) graphs = concurrency.wrap(tenant, graphs);
    if (cache !== undefined) graphs = cache.wrap(tenant, graphs);
    return graphs;
  };
}
