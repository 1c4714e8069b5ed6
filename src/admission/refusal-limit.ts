// Failed authentications per client address, counted in this instance's memory:
// past the limit an address is refused with 429 before its token is looked at,
// so a flood of bad tokens costs neither signature checks nor database work.

import { RateLimiterMemory } from 'rate-limiter-flexible';
import { GatewayError } from '../errors.js';

/** Failures are counted per fixed minute, as AUTH_FAILURES_PER_MINUTE says. */
export const AUTH_FAILURE_WINDOW_SEC = 60;

export interface AuthFailureLimit {
  /** The AUTH_FAILURES_LIMITED error for an address over its limit, or undefined when it may try a token. */
  refusal(clientIp: string | undefined): Promise<GatewayError | undefined>;
  /** Counts one failed authentication from the address. */
  failed(clientIp: string | undefined): Promise<void>;
}

/** `perMinute` 0 turns the limit off. */
export function createAuthFailureLimit(perMinute: number): AuthFailureLimit {
  if (perMinute === 0) return { refusal: () => Promise.resolve(undefined), failed: () => Promise.resolve() };
  const limiter = new RateLimiterMemory({ points: perMinute, duration: AUTH_FAILURE_WINDOW_SEC });
  // A request whose address could not be read shares one budget: it cannot escape the count.
  const keyOf = (clientIp: string | undefined) => clientIp ?? 'unknown';
  return {
    async refusal(clientIp) {
      const counted = await limiter.get(keyOf(clientIp));
      if (counted === null || counted.consumedPoints < perMinute) return undefined;
      const retryAfterSec = String(Math.max(1, Math.ceil(counted.msBeforeNext / 1000)));
      return new GatewayError(
        'AUTH_FAILURES_LIMITED',
        `Too many failed authentications from this address (limit ${perMinute} a minute); tokens from it are not checked for ${retryAfterSec} s. Fix the client's token, then retry after that.`,
        { retryAfterSec },
      );
    },
    async failed(clientIp) {
      // penalty() adds a point without refusing: the refusal is decided by refusal() on the next request.
      await limiter.penalty(keyOf(clientIp), 1);
    },
  };
}
