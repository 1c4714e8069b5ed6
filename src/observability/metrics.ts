// What the request path reports to metrics (tool calls, refusals,
// authentications, JWKS failures, cache lookups): prometheus-metrics.ts keeps
// them in a registry of this instance's own, NO_METRICS drops them.

import type { Principal } from '../tenancy/principal.js';
import type { GatewayError } from '../errors.js';
import type { ToolCallRecord } from './tool-call.js';

export interface GatewayMetrics {
  /** One finished tool call. */
  toolCall(principal: Principal, record: ToolCallRecord): void;
  /** A request refused with a GatewayError (authentication, denial, rate limit, …); the principal when known. */
  requestRefused(error: GatewayError, principal: Principal | undefined): void;
  /** A request whose token passed every check. */
  authenticated(principal: Principal): void;
  /** The identity provider's key set could not be fetched. */
  jwksFailure(): void;
  /** One lookup in a cache of the tenant's graph data (src/cache): served from it (hit) or not. */
  cacheLookup(tenant: string, cache: CacheKind, hit: boolean): void;
}

/** The caches whose hits and misses are counted. */
export type CacheKind = 'schema' | 'graph_list' | 'query';

/** Metrics that go nowhere: for the CLI and stdio, which serve no /metrics. */
export const NO_METRICS: GatewayMetrics = {
  toolCall: () => undefined,
  requestRefused: () => undefined,
  authenticated: () => undefined,
  jwksFailure: () => undefined,
  cacheLookup: () => undefined,
};
