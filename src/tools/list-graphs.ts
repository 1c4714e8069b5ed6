// falkordb_list_graphs: the caller's graph names, prefix removed.

import { z } from 'zod';
import { tenantGraphsAmong, tenantKeyPrefix } from '../tenancy/keys.js';
import { requireScope } from '../auth/scopes.js';
import { defineTool } from './definition.js';
import { runTool } from './result.js';

export const listGraphsTool = defineTool({
  name: 'falkordb_list_graphs',
  title: 'List your graphs',
  description: 'Lists the names of your FalkorDB graphs. Use one of them as graphName in the other tools. Takes no arguments.',
  inputSchema: {},
  outputSchema: { graphs: z.array(z.string()) },
  annotations: { readOnlyHint: true, openWorldHint: false },
  handler: (_args, ctx) =>
    runTool(ctx, { tool: 'falkordb_list_graphs' }, async () => {
      requireScope(ctx.principal, 'read', 'Listing graphs');
      const tenant = ctx.principal.tenant;
      return { graphs: tenantGraphsAmong(tenant, await ctx.graphs.listKeys(tenantKeyPrefix(tenant))) };
    }),
});
