// The rate of /oauth/token requests per client address, on this instance. A
// token request names no tenant until its refresh token is verified, so it
// cannot draw on a tenant's budget; counting by address bounds what one client
// can make the gateway verify, without a database round trip.

import { RateLimiterMemory, RateLimiterRes } from 'rate-limiter-flexible';
import { GatewayError } from '../errors.js';

const WINDOW_SEC = 60;
// Requests whose address is not known (no socket address) share one count.
const UNKNOWN_ADDRESS = 'unknown';

export class AddressRateLimiter {
  readonly #perMinute: number;
  readonly #limiter: RateLimiterMemory | undefined;

  /** `perMinute` 0: no limit. */
  constructor(perMinute: number) {
    this.#perMinute = perMinute;
    this.#limiter = perMinute === 0 ? undefined : new RateLimiterMemory({ points: perMinute, duration: WINDOW_SEC });
  }

  /** Counts one request from `address`; throws RATE_LIMITED (details.retryAfterSec) when over. */
  async consume(address: string | undefined): Promise<void> {
    if (this.#limiter === undefined) return;
    try {
      await this.#limiter.consume(address ?? UNKNOWN_ADDRESS);
    } catch (error) {
      if (!(error instanceof RateLimiterRes)) throw error;
      const retryAfter = Math.max(1, Math.ceil(error.msBeforeNext / 1000));
      throw new GatewayError(
        'RATE_LIMITED',
        `Too many token requests from this address: at most ${this.#perMinute} per minute on this gateway instance (TOKEN_REQUESTS_PER_MINUTE). Retry in ${retryAfter} s; a client needs one refresh per access token lifetime.`,
        { retryAfterSec: String(retryAfter) },
      );
    }
  }
}
