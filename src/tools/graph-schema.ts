// falkordb_graph_schema: labels and relationship types with their counts and
// property keys, relationship endpoints, indexes, constraints; index internals on request.

import { z } from 'zod';
import { GatewayError, isGatewayError } from '../errors.js';
import { SCHEMA_SAMPLE_SIZE } from '../falkordb/graph-schema.js';
import { defineTool, READS_ONLY } from './definition.js';
import { authorizeGraph, graphNameArg } from './graph-name-arg.js';

const names = z.array(z.string());

export const graphSchemaTool = defineTool({
  name: 'falkordb_graph_schema',
  title: 'Describe a graph',
  description:
    'Describes one of your graphs: node labels with their node counts and property keys, relationship types with their counts, property keys and endpoint labels (from, to), ' +
    'all property keys, indexes as "Label.property kind" and constraints. Call it before writing queries for a graph you do not know. ' +
    `Counts are exact; the property keys of a label or type and the endpoints of a type come from a sample of its first ${SCHEMA_SAMPLE_SIZE} nodes or relationships (sampling.complete is false when a sample was cut short by the time limit). ` +
    'detail: "full" adds indexDetails, each index as FalkorDB reports it (fields, options, sizes). Example: {"graphName": "movies"}',
  inputSchema: {
    graphName: graphNameArg,
    detail: z.enum(['compact', 'full']).optional().describe('"compact" (default), or "full" to add indexDetails: the index internals FalkorDB reports.'),
  },
  outputSchema: {
    graph: z.string(),
    labels: z.array(z.object({ name: z.string(), count: z.number(), properties: names })),
    relationshipTypes: z.array(
      z.object({
        name: z.string(),
        count: z.number(),
        properties: names,
        endpoints: z.array(z.object({ from: z.string().nullable(), to: z.string().nullable() })),
      }),
    ),
    propertyKeys: names,
    indexes: names,
    constraints: z.array(
      z.object({
        kind: z.enum(['unique', 'mandatory']),
        entity: z.enum(['node', 'relationship']),
        label: z.string(),
        properties: names,
        status: z.string(),
      }),
    ),
    sampling: z.object({ nodesPerLabel: z.number(), relationshipsPerType: z.number(), complete: z.boolean() }),
    indexDetails: z.array(z.record(z.string(), z.unknown())).optional().describe('Only with detail: "full".'),
  },
  annotations: READS_ONLY,
  listedFor: 'read',
  run: async (args, ctx) => {
    const { key } = await authorizeGraph(ctx, args.graphName, 'read', 'Reading a graph schema');
    try {
      const { indexDetails, ...schema } = await ctx.graphs.schema(key, ctx.limits.timeoutMs);
      return { graph: args.graphName, ...schema, ...(args.detail === 'full' ? { indexDetails } : {}) };
    } catch (error) {
      if (isGatewayError(error) && error.code === 'GRAPH_NOT_FOUND') {
        throw new GatewayError('GRAPH_NOT_FOUND', `Graph "${args.graphName}" does not exist. falkordb_list_graphs lists your graphs.`);
      }
      throw error;
    }
  },
});
