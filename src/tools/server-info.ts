// falkordb_server_info: versions, the caller's tenant, scopes, token expiry and limits.

import { z } from 'zod';
import { requireScope } from '../auth/scopes.js';
import { defineTool } from './definition.js';
import { runTool } from './result.js';

export const serverInfoTool = defineTool({
  name: 'falkordb_server_info',
  title: 'Gateway and database information',
  description: 'Shows the gateway and FalkorDB versions, your tenant, the scopes of your token, when it expires, and the limits that apply to your queries. Takes no arguments.',
  inputSchema: {},
  outputSchema: {
    gateway: z.object({ name: z.string(), version: z.string() }),
    falkordb: z.object({ version: z.string() }),
    tenant: z.string(),
    scopes: z.array(z.string()),
    device: z.string().nullable(),
    tokenExpiresAt: z.string().nullable(),
    limits: z.object({ queryTimeoutMs: z.number(), maxRows: z.number(), maxQueryLength: z.number(), loadCsvAllowed: z.boolean() }),
  },
  annotations: { readOnlyHint: true, openWorldHint: false },
  handler: (_args, ctx) =>
    runTool(ctx, { tool: 'falkordb_server_info' }, async () => {
      requireScope(ctx.principal, 'read', 'Reading server information');
      const { principal, limits } = ctx;
      return {
        gateway: { name: 'falkordb-mcp-gateway', version: ctx.versions.gateway },
        falkordb: { version: ctx.versions.falkordb },
        tenant: principal.tenant,
        scopes: [...principal.scopes],
        device: principal.device ?? null,
        tokenExpiresAt: Number.isFinite(principal.expiresAt) ? new Date(principal.expiresAt * 1000).toISOString() : null,
        limits: { queryTimeoutMs: limits.timeoutMs, maxRows: limits.maxRows, maxQueryLength: limits.maxQueryLength, loadCsvAllowed: limits.allowLoadCsv },
      };
    }),
});
