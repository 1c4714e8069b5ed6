// The three objects one tool call is made of, from the longest-lived inward:
//
//   ToolServices  what the gateway gives every call (graph access, admission, the
//                 records it leaves); built once per transport by main.ts or the CLI
//   Caller        who is calling, from a verified token only; built once per HTTP
//                 request (stateless /mcp), per SSE session, or once for stdio
//   ToolContext   what a tool's `run` sees: the caller's principal and graph
//                 operations, the limits; built per call by tools/call.ts

import type { GraphRules } from '../tenancy/graph-rules.js';
import type { Principal } from '../tenancy/principal.js';
import type { Config } from '../config/index.js';
import type { GraphOperations } from '../falkordb/graphs.js';
import type { InFlight } from '../in-flight.js';
import type { Logger } from '../logger.js';
import type { ToolCallRecord } from '../observability/tool-call.js';
import type { CallTracer } from '../observability/tracing.js';
import type { TenantStats } from '../observability/usage.js';
import type { GraphAccess } from './graph-access.js';

export interface ToolServices {
  /** The graph operations of one caller (see tools/graph-access.ts). */
  graphAccess: GraphAccess;
  limits: Config['query'];
  versions: { gateway: string; falkordb: string };
  /** Where a call that fails unexpectedly is logged (once, with its request id). */
  logger: Logger;
  /** Calls in progress: shutdown waits for them. */
  inFlight: Pick<InFlight, 'begin'>;
  /**
   * Counts one tool call against its tenant (the rate limit; over stdio the tenant's
   * status); throws (RATE_LIMITED, TENANT_DISABLED) to refuse it before its tool runs.
   */
  admit(caller: Caller): Promise<void>;
  /** Writes one finished call to the audit trail, metrics and usage; never throws or blocks. */
  record(caller: Caller, record: ToolCallRecord): void;
  /** The graph rules of a tenant, read fresh enough that a change applies within the registry's cache time. */
  graphRules(principal: Principal): Promise<GraphRules | undefined>;
  /** Usage, last error and limits of tenants; absent where nothing is recorded. */
  tenantStats?: TenantStats | undefined;
  /** Starts each call's span; absent when tracing is off, so that a call then does no tracing work at all. */
  tracer?: CallTracer | undefined;
}

export interface Caller {
  readonly principal: Principal;
  /** Client address, when the calls come over the network. */
  readonly clientIp?: string | undefined;
  /**
   * Tool calls the request's own rate count paid for already, spent by
   * ToolServices.admit: 1 for a POST to /mcp (its first call), 0 in an SSE
   * session or over stdio, where each call counts on its own.
   */
  prepaidCalls: number;
}

export interface ToolContext {
  principal: Principal;
  graphs: GraphOperations;
  limits: Config['query'];
  versions: { gateway: string; falkordb: string };
  logger: Logger;
  /** The id of the HTTP request that carried the call (its X-Request-Id), else of its JSON-RPC request. */
  requestId: string;
  /** The graph rules of the caller's tenant; a failed lookup fails the call rather than dropping the rules. */
  graphRules(): Promise<GraphRules | undefined>;
  tenantStats?: TenantStats | undefined;
  /** Aborted when the client cancels the call (notifications/cancelled, or the request's stream closed on 2026-07-28). */
  signal?: AbortSignal | undefined;
}

/**
 * What the audit trail records of one call, filled in as the call goes: the
 * registration sets the tool, graph and query from the arguments; the tool may
 * add whether it wrote and more of the caller's own input.
 */
export interface CallFacts {
  readonly tool: string;
  graph?: string;
  query?: string;
  /** Set by the tool once it knows whether the query wrote. */
  write?: boolean;
  /** Everything the caller typed, so scrubbing a message never hides the caller's own words. */
  callerInput: string;
}
