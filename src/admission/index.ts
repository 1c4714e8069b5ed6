// Per-tenant admission: a rate limit shared by every instance, and caps on
// how many queries a tenant (and the instance) runs at once.

import type { Principal } from '../tenancy/principal.js';
import type { Config } from '../config/index.js';
import type { Logger } from '../logger.js';
import type { GatewayState } from '../gateway-state.js';
import { AddressRateLimiter } from './address-rate.js';
import { ConcurrencyGate } from './concurrency.js';
import { TenantRateLimiter } from './rate-limit.js';

export { rateLimitHeadersOf } from './rate-limit.js';

export interface Admission {
  /**
   * Counts one HTTP request against the tenant's rate; throws RATE_LIMITED
   * (details.retryAfterSec) when over it. Returns the RateLimit-* headers to send.
   */
  admitRequest(principal: Principal): Promise<Record<string, string>>;
  /** The same count for one tool call (inside an SSE session, or past the first of a batched POST). */
  admitToolCall(principal: Principal): Promise<void>;
  /** Counts one /oauth/token request from a client address (per instance); throws RATE_LIMITED when over. */
  admitTokenRequest(clientIp: string | undefined): Promise<void>;
  /** The caps on queries running at once on this instance; tools/graph-access.ts puts them under the cache. */
  concurrency: ConcurrencyGate;
}

export interface AdmissionOptions {
  config: Config;
  state: GatewayState;
  /** Told (at most once a minute) when the rate cannot be counted and requests go through uncounted. */
  logger?: Logger;
  now?: () => number;
}

export function createAdmission({ config, state, logger, now }: AdmissionOptions): Admission {
  const rate = new TenantRateLimiter({
    limits: config.limits,
    db: state.store.database,
    tenants: state.tenants,
    logger,
    ...(now === undefined ? {} : { now }),
  });
  const gate = new ConcurrencyGate(config.limits);
  const tokenRequests = new AddressRateLimiter(config.limits.tokenRequestsPerMinute);
  const admitToolCall = async (principal: Principal) => {
    await rate.consume(principal.tenant);
  };
  return {
    admitRequest: (principal) => rate.consume(principal.tenant),
    admitToolCall,
    admitTokenRequest: (clientIp) => tokenRequests.consume(clientIp),
    concurrency: gate,
  };
}
