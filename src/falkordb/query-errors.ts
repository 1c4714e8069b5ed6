// FalkorDB's error replies in the gateway's words: a stable code, and for a
// syntax error the place in the caller's query rather than FalkorDB's raw
// `errMsg: … line: 1, column: 14, offset: 13 errCtx: … errCtxOffset: 13`.

import { replyGuardError } from './reply-guard.js';
import { GatewayError, isGatewayError } from '../errors.js';

/** Why FalkorDB refused a query, for callers that explain it in their own words. */
export type QueryFailureReason = 'read_only' | 'timeout' | 'missing_graph' | 'memory' | 'server';

function classify(message: string): QueryFailureReason {
  if (/to be executed only on read-only queries/i.test(message)) return 'read_only';
  if (/query timed out/i.test(message)) return 'timeout';
  if (/empty key/i.test(message)) return 'missing_graph';
  if (/mem consumption exceeded capacity/i.test(message)) return 'memory';
  return 'server';
}

// `… line: 1, column: 14, offset: 13 errCtx: MATCH (n) RETRN n errCtxOffset: 13`: line and column
// count from 1 and, like the offset, in bytes of the query after its `CYPHER name=value` prefix.
const POSITION = /\s*line: (\d+), column: (\d+), offset: \d+(?: errCtx: [\s\S]*)?$/;

/** Where (line, byte column) points in `query`: the character position and column, or undefined if it points outside. */
function locate(query: string, line: number, byteColumn: number): { position: number; column: number } | undefined {
  const lines = query.split('\n');
  const text = lines[line - 1];
  if (text === undefined) return undefined;
  const bytes = Buffer.from(text, 'utf8');
  if (byteColumn < 1 || byteColumn > bytes.length + 1) return undefined;
  const column = bytes.subarray(0, byteColumn - 1).toString('utf8').length + 1;
  const before = lines.slice(0, line - 1).reduce((sum, l) => sum + l.length + 1, 0);
  return { position: before + column - 1, column };
}

/**
 * FalkorDB's message without its prefix and raw context (which would echo the
 * query and its parameter values), with the place of a syntax error, e.g.
 * `Invalid input 'R' at position 13 (line 1, column 14): expected RETURN`.
 */
export function describeQueryError(message: string, query: string | undefined): string {
  const text = message.replace(/^(?:errMsg:\s*|ERR\s+|Error:\s*)/, '').trim();
  const found = POSITION.exec(text);
  if (found === null) return text;
  const what = text.slice(0, found.index);
  const line = Number(found[1]);
  const byteColumn = Number(found[2]);
  // A query that starts with its own CYPHER parameters is counted from after them: only line and column can be told then.
  const at = query === undefined || /^\s*CYPHER\b/i.test(query) ? undefined : locate(query, line, byteColumn);
  const where = at === undefined ? `at line ${line}, column ${byteColumn}` : `at position ${at.position} (line ${line}, column ${at.column})`;
  const colon = what.indexOf(': ');
  return colon === -1 ? `${what} ${where}` : `${what.slice(0, colon)} ${where}${what.slice(colon)}`;
}

/**
 * A database error reply as a GatewayError (QUERY_TIMEOUT, GRAPH_NOT_FOUND,
 * QUERY_MEMORY_EXCEEDED, QUERY_FAILED) that keeps the reply as its cause; GatewayErrors (connection
 * failures among them) pass through as they are. `query` is the caller's query
 * text, to place a syntax error in it.
 */
export function translateQueryError(error: unknown, query?: string): GatewayError {
  if (isGatewayError(error)) return error;
  const guarded = replyGuardError(error);
  if (guarded !== undefined) return guarded;
  const message = error instanceof Error ? error.message : String(error);
  const reason = classify(message);
  if (reason === 'memory') {
    return new GatewayError(
      'QUERY_MEMORY_EXCEEDED',
      'The query needed more memory than the database allows one query and was stopped. Narrow it: a LIMIT, fewer rows collected into lists, smaller ranges; or ask the operator to raise the per-query memory limit.',
      { reason, origin: 'database' },
      { cause: error },
    );
  }
  if (/use the GRAPH\.CONSTRAINT command instead/i.test(message)) {
    // FalkorDB's own words name a command no tool sends; the tools that do it are these.
    return new GatewayError(
      'QUERY_FAILED',
      'FalkorDB does not create or drop constraints in Cypher. Use the falkordb_create_constraint or falkordb_drop_constraint tool (graphName, kind: unique|mandatory, entity: node|relationship, label, properties).',
      { reason },
      { cause: error },
    );
  }
  const code = reason === 'timeout' ? 'QUERY_TIMEOUT' : reason === 'missing_graph' ? 'GRAPH_NOT_FOUND' : 'QUERY_FAILED';
  return new GatewayError(code, describeQueryError(message, query), { reason, origin: 'database' }, { cause: error });
}
