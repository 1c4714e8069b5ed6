// Reads FalkorDB's execution plans (GRAPH.EXPLAIN): the plan as lines, each
// operation's name, and whether the plan changes the graph.

import type { RespValue } from './database.js';
import { queryMayWrite } from './query-mode.js';

/**
 * Operations that change a graph when they run (`SET`/`REMOVE` are Update, `DETACH DELETE` is
 * Delete, `MERGE` is Merge and MergeCreate), and the one-line plans of index changes.
 */
const WRITE_OPERATIONS = new Set(['Create', 'Merge', 'MergeCreate', 'Delete', 'Update']);
const SCHEMA_CHANGE = /^(?:Create|Drop)\b.*\bIndex$/;

/** The plan's lines as FalkorDB prints them, the nesting kept as indentation: a list, or one line (an index change). */
export function planLines(reply: RespValue): string[] {
  if (Array.isArray(reply)) return reply.map((line) => String(line));
  return reply === null || reply === undefined ? [] : [String(reply)];
}

/** The operation a plan line names: `Node By Label Scan | (n:A)` → `Node By Label Scan`. */
export function planOperation(line: string): string {
  return line.split('|')[0]!.trim();
}

/**
 * Whether running the query that gave `plan` may change the graph: the plan has an
 * operation that writes, or it calls a procedure (the plan says only `ProcedureCall`,
 * not which) that FalkorDB does not list as read-only, as `query` names it.
 */
export function planWrites(plan: readonly string[], query: string): boolean {
  const operations = plan.map(planOperation);
  if (operations.some((op) => WRITE_OPERATIONS.has(op) || SCHEMA_CHANGE.test(op))) return true;
  return operations.includes('ProcedureCall') && queryMayWrite(query);
}
