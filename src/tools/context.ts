// What every tool handler gets: who is calling (from a verified token only) and
// the handles it may use. Built per request by the transport layer.

import type { GraphRules } from '../tenancy/graph-rules.js';
import type { Principal } from '../tenancy/principal.js';
import type { Config } from '../config/index.js';
import type { GraphOperations } from '../falkordb/graphs.js';
import type { Logger } from '../logger.js';
import type { ToolCallRecord } from '../observability/tool-call.js';
import type { TenantStats } from '../observability/usage.js';

export interface ToolContext {
  principal: Principal;
  graphs: GraphOperations;
  limits: Config['query'];
  versions: { gateway: string; falkordb: string };
  /** Where a call that fails unexpectedly is logged (once, with requestId). */
  logger: Logger;
  /**
   * The id of the HTTP request that carried the call (its X-Request-Id), for the
   * log; set per call where the context outlives one request (SSE, stdio).
   */
  requestId?: string | undefined;
  /** Client address, when the call came over the network. */
  clientIp?: string;
  /** Called before each tool body; throws (e.g. RATE_LIMITED) to refuse the call. */
  admitCall?: () => Promise<void>;
  /** Receives one record per finished call; must not throw or block. */
  recordCall?: (record: ToolCallRecord) => void;
  /** Marks a call as in progress (shutdown waits for it); returns the function that ends it. */
  beginCall?: () => () => void;
  /**
   * The graph rules of the caller's tenant, read fresh enough that a change
   * applies within the registry's cache time; absent where no registry is read (stdio).
   */
  tenantGraphRules?: () => Promise<GraphRules | undefined>;
  /** Usage, last error and limits of tenants; absent where nothing is recorded (stdio). */
  tenantStats?: TenantStats | undefined;
}
