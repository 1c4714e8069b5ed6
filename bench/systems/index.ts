// The systems under test, by name, as the load process builds them.

import type { SystemName } from '../protocol.js';
import type { SystemClient, SystemContext } from './client.js';
import { directClient } from './direct.js';
import { floorClient } from './floor-client.js';
import { gatewayRawClient } from './gateway-raw.js';
import { gatewaySdkClient } from './gateway-sdk.js';
import { officialRawClient, officialSdkClient } from './official-client.js';

export const CLIENT_FACTORIES: Record<SystemName, (ctx: SystemContext) => Promise<SystemClient>> = {
  direct: directClient,
  floor: floorClient,
  'floor-sdk': (ctx) => floorClient({ ...ctx, job: { ...ctx.job, endpoints: { ...ctx.job.endpoints, floorUrl: ctx.job.endpoints.floorSdkUrl } } }),
  'gateway-raw': gatewayRawClient,
  // The same raw JSON-RPC client, against the gateway with TENANT_ISOLATION=acl.
  'gateway-acl': (ctx) => gatewayRawClient({ ...ctx, job: { ...ctx.job, endpoints: { ...ctx.job.endpoints, gatewayUrl: ctx.job.endpoints.gatewayAclUrl ?? '' } } }),
  // The same raw JSON-RPC client, against the gateway that traces 1 % of its calls.
  'gateway-otel': (ctx) => gatewayRawClient({ ...ctx, job: { ...ctx.job, endpoints: { ...ctx.job.endpoints, gatewayUrl: ctx.job.endpoints.gatewayOtelUrl ?? '' } } }),
  'gateway-sdk': gatewaySdkClient,
  'official-raw': officialRawClient,
  'official-sdk': officialSdkClient,
};

export type { SystemClient, SystemContext } from './client.js';
