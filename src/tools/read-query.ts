// falkordb_read_query: run a Cypher query that only reads, always as GRAPH.RO_QUERY.

import { GatewayError, isGatewayError } from '../errors.js';
import { queryMayWrite } from '../falkordb/query-mode.js';
import { defineTool, READS_ONLY } from './definition.js';
import { admitReadOnlyQuery, graphNotFound, graphQuery, queryArgs, queryResultSchema, queryTimedOut, timeoutMsArg } from './query-input.js';
import { fitRows } from './result-size.js';

export const readQueryTool = defineTool({
  name: 'falkordb_read_query',
  title: 'Run a read-only Cypher query',
  description: [
    'Runs an openCypher query that only reads on one of your FalkorDB graphs and returns the rows as JSON objects keyed by column.',
    'It can never change a graph: FalkorDB runs it read-only (GRAPH.RO_QUERY) and refuses any CREATE, MERGE, SET, DELETE or REMOVE; run writes with falkordb_query.',
    'Needs the "read" scope on the graph.',
    'Pass values through `parameters` and refer to them as $name in the query, instead of writing them into the query text.',
    'Example: {"graphName": "movies", "query": "MATCH (m:Movie) WHERE m.year > $year RETURN m.title AS title LIMIT 10", "parameters": {"year": 2000}}',
  ].join(' '),
  inputSchema: { ...queryArgs, timeoutMs: timeoutMsArg },
  outputSchema: queryResultSchema,
  annotations: READS_ONLY,
  listedFor: 'read',
  run: async (args, ctx, call) => {
    const key = await admitReadOnlyQuery(ctx, args, call, 'Querying a graph');
    try {
      // The same query as falkordb_query sends read-only, so both find the same cached results.
      const result = await ctx.graphs.query(graphQuery(ctx, key, args, true));
      return fitRows({ graph: args.graphName, ...result }, ctx.limits.maxResultBytes);
    } catch (error) {
      throw readFailure(error, args.graphName, args.query);
    }
  },
});

function readFailure(error: unknown, graph: string, query: string): unknown {
  if (!isGatewayError(error)) return error;
  if (error.details.reason === 'read_only') {
    return new GatewayError('QUERY_FORBIDDEN', 'This query writes to the graph, and falkordb_read_query only reads. Run it with falkordb_query, which needs the "write" scope on the graph.');
  }
  if (error.code === 'GRAPH_NOT_FOUND') return graphNotFound(graph, queryMayWrite(query) ? '; a write query run with falkordb_query creates a new one' : '');
  if (error.code === 'QUERY_TIMEOUT') return queryTimedOut();
  return error;
}
