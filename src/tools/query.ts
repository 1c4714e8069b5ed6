// falkordb_query: run Cypher on one of the caller's graphs.

import { z } from 'zod';
import { graphRightRefusal } from '../tenancy/graph-rules.js';
import type { Principal } from '../tenancy/principal.js';
import { hasScope } from '../tenancy/scopes.js';
import { GatewayError, isGatewayError } from '../errors.js';
import { assertQueryAllowed } from '../falkordb/cypher-guard.js';
import type { GraphQuery } from '../falkordb/graphs.js';
import { assertParametersDepth } from '../falkordb/params.js';
import { queryChangedGraph } from '../falkordb/query-changed.js';
import { queryMayWrite } from '../falkordb/query-mode.js';
import type { ShapedReply } from '../falkordb/shape.js';
import { defineTool } from './definition.js';
import { authorizeGraph, graphNameArg } from './graph-name-arg.js';
import { fitRows } from './result-size.js';

export const queryTool = defineTool({
  name: 'falkordb_query',
  title: 'Run a Cypher query',
  description: [
    'Runs an openCypher query on one of your FalkorDB graphs and returns the rows as JSON objects keyed by column.',
    'Pass values through `parameters` and refer to them as $name in the query, instead of writing them into the query text.',
    'A query needs the "read" scope on the graph; one that creates, changes or deletes data also needs "write" on it. Set readOnly: true to make sure a query cannot write.',
    'Writing to a graph that does not exist yet creates it; a query that does not write never does.',
    'Example: {"graphName": "movies", "query": "MATCH (m:Movie) WHERE m.year > $year RETURN m.title AS title LIMIT 10", "parameters": {"year": 2000}}',
  ].join(' '),
  inputSchema: {
    graphName: graphNameArg,
    query: z.string().min(1).describe('The openCypher query.'),
    parameters: z.record(z.string(), z.unknown()).optional().describe('Query parameters, used as $name in the query. Names: letters, digits and _.'),
    readOnly: z.boolean().optional().describe('true: refuse any write (runs with GRAPH.RO_QUERY).'),
    timeoutMs: z.number().int().positive().optional().describe('Time limit in milliseconds, capped by the server limit.'),
  },
  outputSchema: {
    graph: z.string(),
    columns: z.array(z.string()),
    rows: z.array(z.record(z.string(), z.unknown())),
    rowCount: z.number().int().describe('Rows in `rows`.'),
    truncated: z.boolean().describe('true when rows or parts of long values were left out; `notice` says which.'),
    totalRows: z.number().int().optional().describe('Rows the query produced, when rows were left out for size and that number is known.'),
    notice: z.string().optional().describe('What was left out, and how to get it (SKIP/LIMIT, fewer columns, slices of long values).'),
    stats: z.record(z.string(), z.union([z.number(), z.boolean()])),
    executionTimeMs: z.number().nullable(),
  },
  annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: false, openWorldHint: false },
  listedFor: 'read',
  run: async (args, ctx, call) => {
    // Checked before anything recursive (JSON.stringify, serialisation) walks the value.
    let depthRefusal: GatewayError | undefined;
    try {
      assertParametersDepth(args.parameters);
    } catch (error) {
      depthRefusal = error as GatewayError;
    }
    if (depthRefusal === undefined) call.callerInput = `${args.query} ${JSON.stringify(args.parameters ?? {})}`;
    // Every query reads, so it needs read on the graph; it may write only with write on the graph too.
    const { key, rules } = await authorizeGraph(ctx, args.graphName, 'read', 'Querying a graph');
    const writeRefusal = whyNoWrite(ctx.principal, graphRightRefusal(ctx.principal, rules, 'write', args.graphName, 'Writing to a graph'));
    if (args.query.length > ctx.limits.maxQueryLength) {
      throw new GatewayError('QUERY_TOO_LONG', `The query is ${args.query.length} characters long; the limit is ${ctx.limits.maxQueryLength}. Split it, or pass data as parameters.`);
    }
    if (depthRefusal !== undefined) throw depthRefusal;
    assertParametersFit(args.parameters, ctx.limits.maxParametersBytes);
    assertQueryAllowed(args.query, ctx.limits, args.parameters);
    const mayWrite = queryMayWrite(args.query);
    const canWrite = writeRefusal === undefined && args.readOnly !== true;
    const run = (readOnly: boolean): Promise<ShapedReply> => {
      call.write = !readOnly;
      const q: GraphQuery = {
        key,
        query: args.query,
        readOnly,
        timeoutMs: Math.min(args.timeoutMs ?? ctx.limits.timeoutMs, ctx.limits.timeoutMs),
        maxRows: ctx.limits.maxRows,
        maxReplyBytes: ctx.limits.maxReplyBytes,
        exactFloats: ctx.limits.exactFloats,
      };
      return ctx.graphs.query(args.parameters === undefined ? q : { ...q, params: args.parameters });
    };
    try {
      // A query that cannot write runs read-only whoever asks: GRAPH.QUERY would create a missing graph.
      let result: ShapedReply;
      try {
        result = await run(!(canWrite && mayWrite));
      } catch (error) {
        // FalkorDB knows better than the words of the query: a write it refused read-only runs again, as a write.
        if (!canWrite || mayWrite || !isGatewayError(error) || error.details.reason !== 'read_only') throw error;
        result = await run(false);
      }
      // A query counts as a write when it changed the graph, whatever mode it ran in.
      call.write = queryChangedGraph(result.stats);
      return fitRows({ graph: args.graphName, ...result }, ctx.limits.maxResultBytes);
    } catch (error) {
      throw explainFailure(error, { graph: args.graphName, mayWrite, readOnlyAsked: args.readOnly === true, writeRefusal });
    }
  },
});

/** Big parameter objects cost memory on every instance and the database; refuse them before they are sent. */
function assertParametersFit(parameters: Record<string, unknown> | undefined, maxBytes: number): void {
  if (parameters === undefined) return;
  const size = Buffer.byteLength(JSON.stringify(parameters), 'utf8');
  if (size > maxBytes) {
    throw new GatewayError('PARAMETERS_TOO_LARGE', `The parameters are ${size} bytes of JSON; the limit is ${maxBytes} bytes. Send less data per call, e.g. split a batch into several queries.`, { size: String(size), limit: String(maxBytes) });
  }
}

/** Why the caller may not write to the graph: the token's scope first, then the graph rules; undefined when it may. */
function whyNoWrite(principal: Principal, graphRefusal: GatewayError | undefined): GatewayError | undefined {
  if (!hasScope(principal, 'write')) {
    return new GatewayError('SCOPE_MISSING', `This query writes to the graph, which needs the "write" scope; this token has: ${principal.scopes.join(' ') || 'none'}. Use a read-only query, or ask the operator for a token with "write".`, { scope: 'write' });
  }
  return graphRefusal;
}

interface FailureFacts {
  graph: string;
  /** Whether the query's words say it may write (queryMayWrite). */
  mayWrite: boolean;
  readOnlyAsked: boolean;
  /** Why the caller may not write to the graph, if it may not. */
  writeRefusal: GatewayError | undefined;
}

/**
 * Why a write may not run: the caller's missing right first (SCOPE_MISSING,
 * GRAPH_FORBIDDEN), else the readOnly: true it asked for; undefined when it may write.
 */
function writeNotAllowed({ writeRefusal, readOnlyAsked }: FailureFacts): GatewayError | undefined {
  if (writeRefusal !== undefined) return writeRefusal;
  return readOnlyAsked ? new GatewayError('QUERY_FORBIDDEN', 'This query writes to the graph, but readOnly: true was requested. Drop readOnly to let it write.') : undefined;
}

function explainFailure(error: unknown, facts: FailureFacts): unknown {
  if (!isGatewayError(error)) return error;
  if (error.details.reason === 'read_only') return writeNotAllowed(facts) ?? error;
  if (error.code === 'GRAPH_NOT_FOUND') {
    // A write the caller may not make is refused for that, whether or not the graph exists yet.
    const refusal = facts.mayWrite ? writeNotAllowed(facts) : undefined;
    if (refusal !== undefined) return refusal;
    const create = facts.writeRefusal === undefined ? '; a write query creates a new one' : '';
    return new GatewayError('GRAPH_NOT_FOUND', `Graph "${facts.graph}" does not exist. falkordb_list_graphs lists your graphs${create}.`);
  }
  if (error.code === 'QUERY_TIMEOUT') {
    return new GatewayError('QUERY_TIMEOUT', 'The query ran past its time limit and was stopped. Narrow it (a LIMIT, an index, fewer hops) or raise timeoutMs within the server limit.');
  }
  return error;
}
