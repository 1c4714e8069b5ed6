// What one finished tool call was: what the tools report, and what the audit
// trail, the metrics and the usage counters are made from.

/** What one finished tool call was, for the audit trail. Never parameter values. */
export interface ToolCallRecord {
  tool: string;
  graph?: string;
  /** The query text; the audit trail keeps its hash, and the text itself only when configured to. */
  query?: string;
  /** For a query tool: whether it ran as a write (GRAPH.QUERY) rather than read-only. */
  write?: boolean;
  /** `cancelled`: the client cancelled the call before it finished (FalkorDB may have run its query on to its time limit). */
  outcome: 'success' | 'error' | 'cancelled';
  errorCode?: string;
  rowCount?: number;
  durationMs: number;
}

/** The tools whose calls run a query, counted and timed as queries (a plan from falkordb_explain runs none). */
const QUERY_TOOLS: ReadonlySet<string> = new Set(['falkordb_query', 'falkordb_read_query']);

export function isQueryCall(record: Pick<ToolCallRecord, 'tool'>): boolean {
  return QUERY_TOOLS.has(record.tool);
}
