// falkordb_health: database reachability and latency, and for the caller's
// tenant alone the count of graphs the caller may read and when its last tool call failed.

import { z } from 'zod';
import { requireScope } from '../tenancy/scopes.js';
import { tenantKeyPrefix } from '../tenancy/keys.js';
import { defineTool, READS_ONLY } from './definition.js';
import { readableGraphs } from './graph-name-arg.js';

const PING_TIMEOUT_MS = 2000;

export const healthTool = defineTool({
  name: 'falkordb_health',
  title: 'Check the database',
  description: 'Checks that the FalkorDB database answers, and how fast; counts the graphs you may read and says when one of your tool calls last failed. Takes no arguments.',
  inputSchema: {},
  outputSchema: {
    tenant: z.string(),
    database: z.object({ reachable: z.boolean(), latencyMs: z.number().nullable(), error: z.string().nullable() }),
    graphCount: z.number().int().nullable().describe('How many of your graphs you may read; null when the database does not answer.'),
    lastErrorAt: z.string().nullable().describe('When one of your tool calls last failed (ISO time); null when none is on record.'),
  },
  annotations: READS_ONLY,
  listedFor: 'read',
  run: async (_args, ctx) => {
      requireScope(ctx.principal, 'read', 'Checking health');
      const tenant = ctx.principal.tenant;
      // Every figure below is read for the caller's own tenant only; none fails the check itself.
      const lastError = ctx.tenantStats?.lastErrorAt(tenant).catch(() => undefined);
      const database = await ctx.graphs.database.ping(PING_TIMEOUT_MS).then(
        (latencyMs) => ({ reachable: true, latencyMs, error: null }),
        () => ({ reachable: false, latencyMs: null, error: 'The database did not answer within 2 s.' }),
      );
      // Counted like falkordb_list_graphs lists: graphs the caller may not read are not even counted.
      const rules = await ctx.graphRules();
      const graphCount = database.reachable
        ? await ctx.graphs.listKeys(tenantKeyPrefix(tenant)).then((keys) => readableGraphs(ctx, rules, keys).length, () => null)
        : null;
      const lastErrorAt = await lastError;
      return { tenant, database, graphCount, lastErrorAt: lastErrorAt === undefined ? null : new Date(lastErrorAt).toISOString() };
  },
});
