// The graph operations a caller's tool calls run on. One function builds them for
// every transport (HTTP, SSE, stdio), so a layer added here (a cache, a database
// user of the caller's tenant) covers all of them.

import type { Principal } from '../auth/principal.js';
import type { GraphClient } from '../falkordb/graphs.js';
import type { GraphOperations } from './context.js';

/** Returns the graph operations for one caller. */
export type GraphAccess = (principal: Principal) => GraphOperations;

export interface GraphAccessDeps {
  /** Graph operations on the gateway's own database connection. */
  graphs: GraphClient;
}

export function createGraphAccess(deps: GraphAccessDeps): GraphAccess {
  return () => deps.graphs;
}
