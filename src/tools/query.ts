// falkordb_query: run Cypher on one of the caller's graphs.

import { z } from 'zod';
import { graphRightRefusal } from '../tenancy/graph-rules.js';
import type { Principal } from '../tenancy/principal.js';
import { hasScope } from '../tenancy/scopes.js';
import { GatewayError, isGatewayError } from '../errors.js';
import { queryChangedGraph } from '../falkordb/query-changed.js';
import { queryMayWrite } from '../falkordb/query-mode.js';
import type { ShapedReply } from '../falkordb/shape.js';
import { defineTool } from './definition.js';
import { authorizeGraph } from './graph-name-arg.js';
import { graphNotFound, graphQuery, guardQuery, queryArgs, queryCall, queryResultSchema, queryTimedOut, timeoutMsArg } from './query-input.js';
import { fitRows } from './result-size.js';

export const queryTool = defineTool({
  name: 'falkordb_query',
  title: 'Run a Cypher query',
  description: [
    'Runs an openCypher query on one of your FalkorDB graphs, writes included, and returns the rows as JSON objects keyed by column.',
    'For a query that only reads, prefer falkordb_read_query: it cannot change anything, so hosts can run it without asking.',
    'Pass values through `parameters` and refer to them as $name in the query, instead of writing them into the query text.',
    'A query needs the "read" scope on the graph; one that creates, changes or deletes data also needs "write" on it. Set readOnly: true to make sure a query cannot write.',
    'Writing to a graph that does not exist yet creates it; a query that does not write never does.',
    'Example: {"graphName": "movies", "query": "CREATE (:Movie {title: $title, year: $year})", "parameters": {"title": "Arrival", "year": 2016}}',
  ].join(' '),
  inputSchema: {
    ...queryArgs,
    readOnly: z.boolean().optional().describe('true: refuse any write (runs with GRAPH.RO_QUERY).'),
    timeoutMs: timeoutMsArg,
  },
  outputSchema: queryResultSchema,
  annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: false, openWorldHint: false },
  // A read-only token is offered falkordb_read_query instead; its call of this tool is still answered.
  listedFor: 'write',
  run: async (args, ctx, call) => {
    const input = queryCall(args, call);
    // Every query reads, so it needs read on the graph; it may write only with write on the graph too.
    const { key, rules } = await authorizeGraph(ctx, args.graphName, 'read', 'Querying a graph');
    const writeRefusal = whyNoWrite(ctx.principal, graphRightRefusal(ctx.principal, rules, 'write', args.graphName, 'Writing to a graph'));
    guardQuery(ctx, args, input);
    const mayWrite = queryMayWrite(args.query);
    const canWrite = writeRefusal === undefined && args.readOnly !== true;
    const run = (readOnly: boolean): Promise<ShapedReply> => {
      call.write = !readOnly;
      return ctx.graphs.query(graphQuery(ctx, key, args, readOnly));
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
    return graphNotFound(facts.graph, facts.writeRefusal === undefined ? '; a write query creates a new one' : '');
  }
  if (error.code === 'QUERY_TIMEOUT') return queryTimedOut();
  return error;
}
