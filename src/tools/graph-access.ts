// The graph operations a caller's tool calls run on, built in one place for
// every transport (HTTP, SSE, stdio). The layers, from the tool inwards:
//
//   1. cache        schemas, the graph list and read results of the caller's tenant, each
//                   checked against its version token; a hit ends here, so it takes no query slot
//   2. concurrency  the tenant's and the instance's query slots (HTTP and SSE; stdio has one caller)
//   3. placement    the tenant is still placed on this database (a `tenant move` may have switched it),
//                   and a move under way has a write noted (copying) or refused (switching)
//   4. storage      a write that may add data (or a new constraint) is refused while the tenant is over its quota
//   5. connection   the tenant's database user (TENANT_ISOLATION=acl), else the gateway's own
//
// One such stack per database a tenant can be placed on (the shared one, and each of
// DATABASE_TARGETS, with its own caps and cache); routedGraphAccess sends each
// operation to the stack of the tenant's placement.
//
// In front of all of them, in the tool call itself, run the tenant's rate limit
// (ToolServices.admit, in tools/call.ts), the token's scopes, the tenant's graph rules and the
// one key-building function (tenancy/keys.ts): a cached answer passes them too.

import type { ConcurrencyGate } from '../admission/concurrency.js';
import type { StorageQuota } from '../admission/storage-quota.js';
import type { Database } from '../falkordb/database.js';
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
  /** Checks, just before an operation reaches the database, that the tenant is still placed here (see PlacementGuard). */
  placement?: PlacementGuard | undefined;
}

/**
 * Layer 3: run once the operation holds its slots, so nothing waits between the check and the database.
 * Each throws (TENANT_MOVING, retryable) when the tenant has been switched to another database, or a
 * move's switch-over refuses writes; `beforeWrite` also notes the graph during a move's copy.
 */
export interface PlacementGuard {
  beforeRead(principal: Principal): Promise<void>;
  /** May return what to call once the write has ended (before its result goes back), e.g. to count it done. */
  beforeWrite(principal: Principal, key: string): Promise<(() => Promise<void>) | undefined>;
}

function placed(guard: PlacementGuard, principal: Principal, graphs: GraphOperations): GraphOperations {
  const write = async <T>(key: string, run: () => Promise<T>): Promise<T> => {
    const ended = await guard.beforeWrite(principal, key);
    if (ended === undefined) return run();
    try {
      return await run();
    } finally {
      await ended();
    }
  };
  const read = async <T>(run: () => Promise<T>): Promise<T> => {
    await guard.beforeRead(principal);
    return run();
  };
  return {
    query: (q) => (q.readOnly ? read(() => graphs.query(q)) : write(q.key, () => graphs.query(q))),
    explain: (q) => read(() => graphs.explain(q)),
    schema: (key, timeoutMs) => read(() => graphs.schema(key, timeoutMs)),
    createConstraint: (key, spec, timeoutMs) => write(key, () => graphs.createConstraint(key, spec, timeoutMs)),
    dropConstraint: (key, spec, timeoutMs) => write(key, () => graphs.dropConstraint(key, spec, timeoutMs)),
    deleteGraph: (key) => write(key, () => graphs.deleteGraph(key)),
    listKeys: (prefix) => read(() => graphs.listKeys(prefix)),
    get database() {
      return graphs.database;
    },
  };
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
  const { cache, concurrency, storage, tenantConnections, placement } = deps;
  // Built from the inside out: 5, 4, 3, 2, 1 of the list at the top of this file.
  return (principal) => {
    const tenant = principal.tenant;
    let graphs: GraphOperations = tenantConnections === undefined ? deps.graphs : asTenantUser(tenantConnections, tenant, deps.graphs);
    if (storage !== undefined) graphs = underQuota(storage, tenant, graphs);
    if (placement !== undefined) graphs = placed(placement, principal, graphs);
    if (concurrency !== undefined) graphs = concurrency.wrap(tenant, graphs);
    if (cache !== undefined) graphs = cache.wrap(tenant, graphs);
    return graphs;
  };
}

/** Where a routed database handle keeps the version of the caller's own database, which its sync `moduleVersion` cannot tell. */
const PLACED_VERSION = Symbol('placed module version');

/** The FalkorDB version of the database the operations run on: the caller's own, wherever its tenant is placed. */
export async function databaseVersion(graphs: GraphOperations): Promise<string> {
  const placed = (graphs.database as { [PLACED_VERSION]?: () => Promise<string> })[PLACED_VERSION];
  return placed === undefined ? graphs.database.moduleVersion : placed();
}

/**
 * The caller's operations on the database its tenant is placed on: `placementOf` names it (undefined:
 * the shared one) for every operation, from the access policy's answer of at most a second ago, so a
 * long-lived caller (an SSE session, a subscription) follows a move. `stackOf` gives the GraphAccess of
 * a database (opening it on first use), or throws when this instance cannot reach it.
 */
export function routedGraphAccess(
  stackOf: (target: string | undefined) => GraphAccess | Promise<GraphAccess>,
  placementOf: (principal: Principal) => Promise<string | undefined>,
  sharedDatabase: Database,
): GraphAccess {
  return (principal) => {
    const pick = async (): Promise<GraphOperations> => (await stackOf(await placementOf(principal)))(principal);
    // What falkordb_health pings: the tenant's own database.
    const database: Database & { [PLACED_VERSION]: () => Promise<string> } = {
      [PLACED_VERSION]: async () => (await pick()).database.moduleVersion,
      get address() {
        return sharedDatabase.address;
      },
      get moduleVersion() {
        return sharedDatabase.moduleVersion;
      },
      get isReady() {
        return sharedDatabase.isReady;
      },
      sendCommand: async (args, options) => (await pick()).database.sendCommand(args, options),
      ping: async (timeoutMs) => (await pick()).database.ping(timeoutMs),
      close: () => Promise.resolve(),
    };
    return {
      query: async (q) => (await pick()).query(q),
      explain: async (q) => (await pick()).explain(q),
      schema: async (key, timeoutMs) => (await pick()).schema(key, timeoutMs),
      createConstraint: async (key, spec, timeoutMs) => (await pick()).createConstraint(key, spec, timeoutMs),
      dropConstraint: async (key, spec, timeoutMs) => (await pick()).dropConstraint(key, spec, timeoutMs),
      deleteGraph: async (key) => (await pick()).deleteGraph(key),
      listKeys: async (prefix) => (await pick()).listKeys(prefix),
      get database() {
        return database;
      },
    };
  };
}
