// falkordb_explain: the execution plan of a Cypher query, without running it.

import { z } from 'zod';
import { GatewayError, isGatewayError } from '../errors.js';
import { planWrites } from '../falkordb/plan.js';
import { defineTool, READS_ONLY } from './definition.js';
import { admitReadOnlyQuery, graphNotFound, queryArgs } from './query-input.js';

const PLAN_NEEDS_PRIMARY =
  'The primary database server is unreachable, and only it makes query plans (read replicas refuse GRAPH.EXPLAIN). Run a read with falkordb_read_query, which the read replicas still serve, or ask for the plan again in a little while.';

export const explainTool = defineTool({
  name: 'falkordb_explain',
  title: 'Explain a Cypher query',
  description: [
    'Shows how FalkorDB would run an openCypher query on one of your graphs (its execution plan, GRAPH.EXPLAIN) without running it, so nothing is read or changed.',
    'Use it to check a query before running it: a query that does not parse comes back as an error with its place;',
    '`writes` says whether running it would change the graph (its plan creates, merges, deletes or updates, changes an index, or calls a procedure that may write), so it needs falkordb_query rather than falkordb_read_query.',
    '`plan` is one operation per line, each indented under the one it feeds. Needs the "read" scope on the graph, which must exist.',
    'Example: {"graphName": "movies", "query": "MATCH (m:Movie) WHERE m.year > $year RETURN m.title", "parameters": {"year": 2000}}',
  ].join(' '),
  inputSchema: queryArgs,
  outputSchema: { graph: z.string(), plan: z.array(z.string()), writes: z.boolean() },
  annotations: READS_ONLY,
  listedFor: 'read',
  run: async (args, ctx, call) => {
    const key = await admitReadOnlyQuery(ctx, args, call, 'Explaining a query');
    try {
      const plan = await ctx.graphs.explain({ key, query: args.query, timeoutMs: ctx.limits.timeoutMs, ...(args.parameters === undefined ? {} : { params: args.parameters }) });
      return { graph: args.graphName, plan, writes: planWrites(plan, args.query) };
    } catch (error) {
      if (!isGatewayError(error)) throw error;
      if (error.code === 'GRAPH_NOT_FOUND') throw graphNotFound(args.graphName, '; a plan is made for an existing graph only');
      // FalkorDB flags GRAPH.EXPLAIN as a write command, so a read replica refuses it: only the primary plans.
      if (error.code === 'PRIMARY_UNAVAILABLE') throw new GatewayError('PRIMARY_UNAVAILABLE', PLAN_NEEDS_PRIMARY, error.details, { cause: error });
      throw error;
    }
  },
});
