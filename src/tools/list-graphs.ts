// falkordb_list_graphs: the names of the caller's graphs it may read, prefix removed.

import { z } from 'zod';
import { tenantKeyPrefix } from '../tenancy/keys.js';
import { requireScope } from '../tenancy/scopes.js';
import { defineTool, READS_ONLY } from './definition.js';
import { readableGraphs } from './graph-name-arg.js';

export const listGraphsTool = defineTool({
  name: 'falkordb_list_graphs',
  title: 'List your graphs',
  description: 'Lists the names of your FalkorDB graphs (those you may read). Use one of them as graphName in the other tools. Takes no arguments.',
  inputSchema: {},
  outputSchema: { graphs: z.array(z.string()) },
  annotations: READS_ONLY,
  listedFor: 'read',
  run: async (_args, ctx) => {
    requireScope(ctx.principal, 'read', 'Listing graphs');
    const tenant = ctx.principal.tenant;
    const rules = await ctx.graphRules();
    // Graphs the caller may not read are left out without a trace, not even a count.
    return { graphs: readableGraphs(ctx, rules, await ctx.graphs.listKeys(tenantKeyPrefix(tenant))) };
  },
});
