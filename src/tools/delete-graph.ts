// falkordb_delete_graph: removes one of the caller's graphs (admin scope).

import { z } from 'zod';
import { defineTool } from './definition.js';
import { authorizeGraph, graphNameArg } from './graph-name-arg.js';

export const deleteGraphTool = defineTool({
  name: 'falkordb_delete_graph',
  title: 'Delete a graph',
  description:
    'Deletes one of your graphs with all its nodes, relationships and indexes. This cannot be undone. Needs the "admin" scope on the graph. Returns deleted: false when there was no such graph. Example: {"graphName": "scratch"}',
  inputSchema: { graphName: graphNameArg },
  outputSchema: { graph: z.string(), deleted: z.boolean() },
  annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: true, openWorldHint: false },
  listedFor: 'admin',
  run: async (args, ctx) => {
    const { key } = await authorizeGraph(ctx, args.graphName, 'admin', 'Deleting a graph');
    return { graph: args.graphName, deleted: await ctx.graphs.deleteGraph(key) };
  },
});
