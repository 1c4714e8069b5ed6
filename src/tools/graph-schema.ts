// falkordb_graph_schema: labels, relationship types, property keys, indexes, constraints.

import { z } from 'zod';
import { GatewayError, isGatewayError } from '../errors.js';
import { defineTool } from './definition.js';
import { authorizeGraph, graphNameArg } from './graph-name-arg.js';

export const graphSchemaTool = defineTool({
  name: 'falkordb_graph_schema',
  title: 'Describe a graph',
  description:
    'Describes one of your graphs: node labels, relationship types, property keys, indexes and constraints. Call it before writing queries for a graph you do not know. Example: {"graphName": "movies"}',
  inputSchema: { graphName: graphNameArg },
  outputSchema: {
    graph: z.string(),
    labels: z.array(z.string()),
    relationshipTypes: z.array(z.string()),
    propertyKeys: z.array(z.string()),
    indexes: z.array(z.record(z.string(), z.unknown())),
    constraints: z.array(z.record(z.string(), z.unknown())),
  },
  annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false },
  listedFor: 'read',
  run: async (args, ctx) => {
    const { key } = await authorizeGraph(ctx, args.graphName, 'read', 'Reading a graph schema');
    try {
      return { graph: args.graphName, ...(await ctx.graphs.schema(key, ctx.limits.timeoutMs)) };
    } catch (error) {
      if (isGatewayError(error) && error.code === 'GRAPH_NOT_FOUND') {
        throw new GatewayError('GRAPH_NOT_FOUND', `Graph "${args.graphName}" does not exist. falkordb_list_graphs lists your graphs.`);
      }
      throw error;
    }
  },
});
