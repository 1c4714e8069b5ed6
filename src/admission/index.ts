// Per-tenant admission: a rate limit shared by every instance, and caps on
// how many queries a tenant (and the instance) runs at once.

import type { Principal } from '../auth/principal.js';
import type { Config } from '../config.js';
import type { GatewayState } from '../state/index.js';
import type { GraphOperations } from '../tools/context.js';

export interface Admission {
  /**
   * Counts one HTTP request against the tenant's rate; throws RATE_LIMITED
   * (details.retryAfterSec) when over it. Returns the RateLimit-* headers to send.
   */
  admitRequest(principal: Principal): Promise<Record<string, string>>;
  /** The same count for one tool call inside an open SSE session. */
  admitToolCall(principal: Principal): Promise<void>;
  /** The tenant's view of the graph operations, under the concurrency caps. */
  graphsFor(tenant: string, graphs: GraphOperations): GraphOperations;
}

export interface AdmissionOptions {
  config: Config;
  state: GatewayState;
}

export function createAdmission(_options: AdmissionOptions): Admission {
  return {
    admitRequest: () => Promise.resolve({}),
    admitToolCall: () => Promise.resolve(),
    graphsFor: (_tenant, graphs) => graphs,
  };
}
