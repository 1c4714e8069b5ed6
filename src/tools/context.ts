// What every tool handler gets: who is calling (from a verified token only) and
// the handles it may use. Built per request by the transport layer.

import type { GraphRules } from '../tenancy/graph-rules.js';
import type { Principal } from '../tenancy/principal.js';
import type { Config } from '../config.js';
import type { GraphClient } from '../falkordb/graphs.js';
import type { Logger } from '../logger.js';
import type { UsageCounters } from '../observability/usage-counters.js';

/** The graph operations tools use; GraphClient, or a wrapper that adds admission limits. */
export type GraphOperations = Pick<GraphClient, 'query' | 'listKeys' | 'deleteGraph' | 'schema' | 'database'>;

/** What one finished tool call was, for the audit trail. Never parameter values. */
export interface ToolCallRecord {
  tool: string;
  graph?: string;
  /** The query text; the audit trail keeps its hash, and the text itself only when configured to. */
  query?: string;
  /** For falkordb_query: whether it ran as a write (GRAPH.QUERY) rather than read-only. */
  write?: boolean;
  outcome: 'success' | 'error';
  errorCode?: string;
  rowCount?: number;
  durationMs: number;
}

/** Per-tenant figures for falkordb_server_info and falkordb_health; tools only ever ask about the caller's tenant. */
export interface TenantStats {
  /** Today's (UTC) counters: what the database holds plus what this instance has not written yet. */
  usageToday(tenant: string): Promise<UsageCounters>;
  /** Epoch ms of the tenant's last failed tool call, if any is kept. */
  lastErrorAt(tenant: string): Promise<number | undefined>;
  /** The limits that apply to the tenant: requests per minute (0: none), queries at once on one instance. */
  limits(tenant: string): Promise<{ ratePerMinute: number; maxConcurrentQueries: number }>;
}

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
