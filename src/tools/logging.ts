// MCP logging (notifications/message): what the gateway tells a caller about
// its own calls, never anything else. A message names the tool, the caller's
// own graph name, the outcome and its error code, the time taken, the row count
// and whether the result was cut short or the graph changed; never a token, a
// query's text or parameter values, another tenant, or an internal detail.
//
// Where the level comes from follows the revision the client speaks:
//   2025 revisions, one server per caller (SSE session, stdio): logging/setLevel sets it for the session
//   2025 revisions, stateless /mcp: there is no session to keep a level in, and a
//     shared server must not let one caller's level apply to another's calls, so
//     logging/setLevel is accepted and changes nothing, and no message is sent
//   2026-07-28: each request carries its level in `_meta` (io.modelcontextprotocol/logLevel);
//     a request without it gets no message (logging is deprecated in that revision, still served)

import { LOG_LEVEL_META_KEY, type LoggingLevel, type Server, type ServerContext } from '@modelcontextprotocol/server';
import type { ToolCallRecord } from '../observability/tool-call.js';
import { isValidGraphName } from '../tenancy/graph-name.js';

export const LOG_LEVELS: readonly LoggingLevel[] = ['debug', 'info', 'notice', 'warning', 'error', 'critical', 'alert', 'emergency'];
const SEVERITY = new Map(LOG_LEVELS.map((level, index) => [level, index]));

/** The level of a session that never sent logging/setLevel: what a person would want to know unasked. */
export const DEFAULT_SESSION_LEVEL: LoggingLevel = 'notice';

/** A call that takes longer than this is called slow. */
export const SLOW_CALL_MS = 1000;

/** The `logger` every message names. */
export const CALL_LOGGER = 'falkordb-mcp-gateway';

export interface CallLogEntry {
  level: LoggingLevel;
  data: Record<string, unknown>;
}

/** Sends one message about the caller's call, if its level passes the caller's threshold. */
export type CallLog = (entry: CallLogEntry) => Promise<void>;

/** Which of the three ways above a server gets its callers' levels. */
export type LoggingMode = 'session' | 'stateless' | 'per-request';

/**
 * Registers logging/setLevel on `server` for `mode` (the server must declare
 * the `logging` capability) and returns, for each request, where its messages go
 * (undefined: nowhere).
 */
export function registerLogging(server: Server, mode: LoggingMode): (ctx: ServerContext) => CallLog | undefined {
  if (mode === 'per-request') {
    // 2026-07-28 has no logging/setLevel; the SDK answers it "Method not found" there.
    return (ctx) => {
      // The SDK types the envelope loosely; it holds the request's `_meta` keys of the revision.
      const level = (ctx.mcpReq.envelope as Record<string, unknown> | undefined)?.[LOG_LEVEL_META_KEY];
      return typeof level === 'string' && SEVERITY.has(level as LoggingLevel) ? sinkOf(ctx, level as LoggingLevel) : undefined;
    };
  }
  if (mode === 'stateless') {
    server.setRequestHandler('logging/setLevel', () => ({}));
    return () => undefined;
  }
  let threshold = DEFAULT_SESSION_LEVEL;
  server.setRequestHandler('logging/setLevel', (request) => {
    threshold = request.params.level;
    return {};
  });
  return (ctx) => sinkOf(ctx, threshold);
}

function sinkOf(ctx: ServerContext, threshold: LoggingLevel): CallLog {
  const floor = SEVERITY.get(threshold) ?? 0;
  return async ({ level, data }) => {
    if ((SEVERITY.get(level) ?? 0) < floor) return;
    await ctx.mcpReq.notify({ method: 'notifications/message', params: { level, logger: CALL_LOGGER, data } });
  };
}

/** What a finished call adds to its record for the messages: whether its result was cut short. */
export interface CallLogFacts {
  truncated?: boolean | undefined;
}

/** Error codes of a call refused before anything ran on the database: a guard, a right, a limit. */
const REFUSED_BEFORE_RUNNING = new Set([
  'INVALID_ARGUMENT', 'GRAPH_NAME_INVALID', 'SCOPE_MISSING', 'GRAPH_FORBIDDEN', 'QUERY_FORBIDDEN', 'QUERY_TOO_LONG', 'QUERY_TOO_COMPLEX',
  'PARAMETERS_INVALID', 'PARAMETERS_TOO_LARGE', 'RATE_LIMITED', 'TOO_MANY_QUERIES', 'TENANT_DISABLED', 'TENANT_NOT_REGISTERED', 'STORAGE_QUOTA_EXCEEDED',
]);

/** The messages one finished call gives its caller, most severe first. Pure: from the call's record only. */
export function callLogEntries(record: ToolCallRecord, facts: CallLogFacts = {}): CallLogEntry[] {
  // `graph` is the caller's argument as sent: named only when it is a graph name (an invalid one may be any text, an internal-looking key among them).
  const graph = isValidGraphName(record.graph) ? record.graph : undefined;
  const about = { tool: record.tool, ...(graph === undefined ? {} : { graph }), durationMs: Math.round(record.durationMs) };
  const on = graph === undefined ? record.tool : `${record.tool} on graph "${graph}"`;
  const entries: CallLogEntry[] = [];
  if (record.outcome === 'cancelled') {
    entries.push({ level: 'notice', data: { ...about, event: 'cancelled', message: `${on} was cancelled after ${about.durationMs} ms. FalkorDB may still run the query until its time limit.` } });
    return entries;
  }
  if (record.outcome === 'error') {
    const code = record.errorCode ?? 'INTERNAL';
    const refused = REFUSED_BEFORE_RUNNING.has(code);
    entries.push({
      level: refused ? 'warning' : 'error',
      data: { ...about, event: refused ? 'refused' : 'failed', code, message: refused ? `${on} was refused before it ran (${code}); the tool result says why.` : `${on} failed (${code}); the tool result says why.` },
    });
    return entries;
  }
  if (facts.truncated === true) {
    entries.push({ level: 'warning', data: { ...about, event: 'truncated', rowCount: record.rowCount, message: `${on}: the result was cut short to ${record.rowCount ?? 0} rows; its notice says how to get the rest.` } });
  }
  if (record.durationMs >= SLOW_CALL_MS) {
    entries.push({ level: 'notice', data: { ...about, event: 'slow', message: `${on} took ${about.durationMs} ms.` } });
  }
  if (record.write === true) {
    entries.push({ level: 'info', data: { ...about, event: 'write', message: `${on} changed the graph.` } });
  }
  entries.push({ level: 'debug', data: { ...about, event: 'finished', ...(record.rowCount === undefined ? {} : { rowCount: record.rowCount }), message: `${on} finished in ${about.durationMs} ms.` } });
  return entries;
}
