// falkordb_health: database reachability and latency, for the caller's tenant.

import { z } from 'zod';
import { requireScope } from '../auth/scopes.js';
import { defineTool } from './definition.js';
import { runTool } from './result.js';

const PING_TIMEOUT_MS = 2000;

export const healthTool = defineTool({
  name: 'falkordb_health',
  title: 'Check the database',
  description: 'Checks that the FalkorDB database answers, and how fast. Takes no arguments.',
  inputSchema: {},
  outputSchema: {
    tenant: z.string(),
    database: z.object({ reachable: z.boolean(), latencyMs: z.number().nullable(), error: z.string().nullable() }),
  },
  annotations: { readOnlyHint: true, openWorldHint: false },
  handler: (_args, ctx) =>
    runTool(ctx, { tool: 'falkordb_health' }, async () => {
      requireScope(ctx.principal, 'read', 'Checking health');
      try {
        const latencyMs = await ctx.graphs.database.ping(PING_TIMEOUT_MS);
        return { tenant: ctx.principal.tenant, database: { reachable: true, latencyMs, error: null } };
      } catch {
        return { tenant: ctx.principal.tenant, database: { reachable: false, latencyMs: null, error: 'The database did not answer within 2 s.' } };
      }
    }),
});
