// What the tools that take a Cypher query share (falkordb_query, falkordb_read_query,
// falkordb_explain): their arguments, the shape of a query result, the checks a
// query passes before it is sent, and the words for a missing graph or a timeout.

import { z } from 'zod';
import { GatewayError } from '../errors.js';
import { assertQueryAllowed } from '../falkordb/cypher-guard.js';
import type { GraphQuery } from '../falkordb/graphs.js';
import { assertParametersDepth } from '../falkordb/params.js';
import type { CallFacts, ToolContext } from './context.js';
import { authorizeGraph, graphNameArg } from './graph-name-arg.js';

/** The arguments of every query tool; falkordb_query and falkordb_read_query add timeoutMs. */
export const queryArgs = {
  graphName: graphNameArg,
  query: z.string().min(1).describe('The openCypher query.'),
  parameters: z.record(z.string(), z.unknown()).optional().describe('Query parameters, used as $name in the query. Names: letters, digits and _; keys of maps inside values: any text without a backtick.'),
};

export const timeoutMsArg = z.number().int().positive().optional().describe('Time limit in milliseconds, capped by the server limit.');

/** What a query that ran returns. */
export const queryResultSchema = {
  graph: z.string(),
  columns: z.array(z.string()),
  rows: z.array(z.record(z.string(), z.unknown())),
  rowCount: z.number().int().describe('Rows in `rows`.'),
  truncated: z.boolean().describe('true when rows or parts of long values were left out; `notice` says which.'),
  totalRows: z.number().int().optional().describe('Rows the query produced, when rows were left out for size and that number is known.'),
  notice: z.string().optional().describe('What was left out, and how to get it (SKIP/LIMIT, fewer columns, slices of long values).'),
  stats: z.record(z.string(), z.union([z.number(), z.boolean()])),
  executionTimeMs: z.number().nullable(),
};

export interface QueryInput {
  graphName: string;
  query: string;
  parameters?: Record<string, unknown> | undefined;
  timeoutMs?: number | undefined;
}

/** A parameter object too deep to walk, refused once the caller's rights are checked. */
export interface QueryCall {
  depthRefusal: GatewayError | undefined;
}

/** Checks the parameters' depth, and adds them to what the caller typed (so a message scrubbed for the tenant keeps the caller's own words). */
export function queryCall(args: QueryInput, call: CallFacts): QueryCall {
  // Checked before anything recursive (JSON.stringify, serialisation) walks the value.
  let depthRefusal: GatewayError | undefined;
  try {
    assertParametersDepth(args.parameters);
  } catch (error) {
    depthRefusal = error as GatewayError;
  }
  if (depthRefusal === undefined) call.callerInput = `${args.query} ${JSON.stringify(args.parameters ?? {})}`;
  return { depthRefusal };
}

/**
 * The checks a query passes before it goes to the database, after the caller's
 * rights: its length (QUERY_TOO_LONG), the parameters' depth and size, then
 * what the query may do (cypher-guard: LOAD CSV, complexity).
 */
export function guardQuery(ctx: ToolContext, args: QueryInput, { depthRefusal }: QueryCall): void {
  if (args.query.length > ctx.limits.maxQueryLength) {
    throw new GatewayError('QUERY_TOO_LONG', `The query is ${args.query.length} characters long; the limit is ${ctx.limits.maxQueryLength}. Split it, or pass data as parameters.`);
  }
  // FalkorDB reads the query as C text: what follows a NUL would not run, though every check here saw it.
  if (args.query.includes('\0')) {
    throw new GatewayError('INVALID_ARGUMENT', 'query: holds a NUL character, which FalkorDB reads as the end of the query, so only the text before it would run. Remove it.');
  }
  if (depthRefusal !== undefined) throw depthRefusal;
  assertParametersFit(args.parameters, ctx.limits.maxParametersBytes);
  assertQueryAllowed(args.query, ctx.limits, args.parameters);
}

/**
 * What the tools that never write (falkordb_read_query, falkordb_explain) do
 * before they send anything: the call recorded as a read, the read right on the
 * graph, then the query's checks. Returns the caller's key for the graph.
 */
export async function admitReadOnlyQuery(ctx: ToolContext, args: QueryInput, call: CallFacts, action: string): Promise<string> {
  const input = queryCall(args, call);
  call.write = false;
  const { key } = await authorizeGraph(ctx, args.graphName, 'read', action);
  guardQuery(ctx, args, input);
  return key;
}

/** The query to send for the caller's `args` on `key`, within the server's limits. */
export function graphQuery(ctx: ToolContext, key: string, args: QueryInput, readOnly: boolean): GraphQuery {
  const q: GraphQuery = {
    key,
    query: args.query,
    readOnly,
    timeoutMs: Math.min(args.timeoutMs ?? ctx.limits.timeoutMs, ctx.limits.timeoutMs),
    maxRows: ctx.limits.maxRows,
    maxReplyBytes: ctx.limits.maxReplyBytes,
    exactFloats: ctx.limits.exactFloats,
    ...(ctx.signal === undefined ? {} : { signal: ctx.signal }),
  };
  return args.parameters === undefined ? q : { ...q, params: args.parameters };
}

/** GRAPH_NOT_FOUND in the caller's words, with what else it can do (`hint`, e.g. how a graph is created). */
export function graphNotFound(graph: string, hint = ''): GatewayError {
  return new GatewayError('GRAPH_NOT_FOUND', `Graph "${graph}" does not exist. falkordb_list_graphs lists your graphs${hint}.`);
}

export function queryTimedOut(): GatewayError {
  return new GatewayError('QUERY_TIMEOUT', 'The query ran past its time limit and was stopped. Narrow it (a LIMIT, an index, fewer hops) or raise timeoutMs within the server limit.');
}

/** Big parameter objects cost memory on every instance and the database; refuse them before they are sent. */
function assertParametersFit(parameters: Record<string, unknown> | undefined, maxBytes: number): void {
  if (parameters === undefined) return;
  const size = Buffer.byteLength(JSON.stringify(parameters), 'utf8');
  if (size > maxBytes) {
    throw new GatewayError('PARAMETERS_TOO_LARGE', `The parameters are ${size} bytes of JSON; the limit is ${maxBytes} bytes. Send less data per call, e.g. split a batch into several queries.`, { size: String(size), limit: String(maxBytes) });
  }
}
