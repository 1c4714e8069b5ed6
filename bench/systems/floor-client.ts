// The floor server's client: the gateway's raw JSON-RPC call, on the graph key itself.

import { graphKey } from '../dataset.js';
import type { SystemClient, SystemContext } from './client.js';
import { rawQueryClient } from './gateway-raw.js';

export async function floorClient(ctx: SystemContext): Promise<SystemClient> {
  const base = ctx.job.endpoints.floorUrl;
  if (base === undefined) throw new Error('the floor server is not running');
  const keys = Array.from({ length: ctx.job.tenants }, (_, i) => graphKey(ctx.job.tenants, i));
  return rawQueryClient(ctx, new URL(base), () => ({ Accept: 'application/json' }), (tenant) => keys[tenant]!);
}
