// falkordb_server_info: versions, the caller's tenant, scopes, token expiry,
// limits, and the tenant's usage today.

import { z } from 'zod';
import { requireScope } from '../tenancy/scopes.js';
import type { UsageCounters } from '../observability/usage-counters.js';
import { PRODUCT_ID } from '../product.js';
import { defineTool, READS_ONLY } from './definition.js';
import { databaseVersion } from './graph-access.js';

const usageSchema = z.object({ requests: z.number(), queries: z.number(), writes: z.number(), errors: z.number(), rows: z.number(), queryMs: z.number() });

export const serverInfoTool = defineTool({
  name: 'falkordb_server_info',
  title: 'Gateway and database information',
  description: 'Shows the gateway and FalkorDB versions, your tenant, the scopes of your token, when it expires, the limits that apply to you, and your usage today (UTC). Takes no arguments.',
  inputSchema: {},
  outputSchema: {
    gateway: z.object({ name: z.string(), version: z.string() }),
    falkordb: z.object({ version: z.string() }),
    tenant: z.string(),
    scopes: z.array(z.string()),
    device: z.string().nullable(),
    tokenExpiresAt: z.string().nullable(),
    limits: z.object({
      queryTimeoutMs: z.number(),
      maxRows: z.number(),
      maxQueryLength: z.number(),
      loadCsvAllowed: z.boolean(),
      ratePerMinute: z.number().describe('Requests per minute your tenant may make, across all gateway instances; 0: no limit.'),
      maxConcurrentQueries: z.number().describe('Queries your tenant may run at once on one gateway instance; 0: no cap.'),
    }),
    usageToday: usageSchema.nullable().describe('Your counters for today (UTC); null when they cannot be read or this server records none.'),
  },
  annotations: READS_ONLY,
  listedFor: 'read',
  run: async (_args, ctx) => {
      requireScope(ctx.principal, 'read', 'Reading server information');
      const { principal, limits, tenantStats } = ctx;
      // A local stdio server has no admission, so neither a rate nor a concurrency cap applies there.
      const tenantLimits = (await tenantStats?.limits(principal.tenant)) ?? { ratePerMinute: 0, maxConcurrentQueries: 0 };
      // Usage is informative: a database hiccup must not take the rest of the answer with it.
      const usageToday: UsageCounters | null = (await tenantStats?.usageToday(principal.tenant).catch(() => null)) ?? null;
      return {
        gateway: { name: PRODUCT_ID, version: ctx.versions.gateway },
        // The caller's own database's, wherever its tenant is placed.
        falkordb: { version: await databaseVersion(ctx.graphs).catch(() => ctx.versions.falkordb) },
        tenant: principal.tenant,
        scopes: [...principal.scopes],
        device: principal.device ?? null,
        tokenExpiresAt: Number.isFinite(principal.expiresAt) ? new Date(principal.expiresAt * 1000).toISOString() : null,
        limits: { queryTimeoutMs: limits.timeoutMs, maxRows: limits.maxRows, maxQueryLength: limits.maxQueryLength, loadCsvAllowed: limits.allowLoadCsv, ...tenantLimits },
        usageToday,
      };
  },
});
