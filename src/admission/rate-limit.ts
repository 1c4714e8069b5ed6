// The per-tenant rate limit: requests per 60 s window plus a burst allowance,
// counted in the database server (under `gw:rate…`) so every instance draws on
// one budget. When the database cannot count (its primary down, or slow to
// answer), each instance counts in its own memory instead (rate-limiter-flexible's
// insurance limiter), so the limit still holds per instance; only when even that
// fails, requests go through (fail open).

import { BurstyRateLimiter, RateLimiterMemory, RateLimiterRedis, RateLimiterRes, RLWrapperTimeouts } from 'rate-limiter-flexible';
import type { Config } from '../config/index.js';
import { GatewayError } from '../errors.js';
import type { Database } from '../falkordb/database.js';
import type { Logger } from '../logger.js';
import type { TenantRegistry } from '../state/tenants.js';
import { stateKeys } from '../state/keys.js';
import { PlanRates } from '../state/plan-rates.js';
import { scriptClient } from './script-client.js';

export const RATE_WINDOW_SEC = 60;
// A database that accepts but does not answer must not hold requests up; past this, count in memory.
const COUNT_TIMEOUT_MS = 2000;
// The last guard, should the in-memory count itself not settle: past this, let the request through.
const FAIL_OPEN_AFTER_MS = COUNT_TIMEOUT_MS + 1000;
const FAIL_OPEN_LOG_INTERVAL_MS = 60_000;

/** Where a RATE_LIMITED error keeps its RateLimit-* header values (GatewayError details are strings). */
const HEADER_DETAILS = { 'RateLimit-Limit': 'rateLimit', 'RateLimit-Remaining': 'rateLimitRemaining', 'RateLimit-Reset': 'rateLimitReset' } as const;

export interface TenantRateLimiterOptions {
  limits: Pick<Config['limits'], 'ratePerMinute' | 'rateBurst' | 'ratePlans'>;
  db: Pick<Database, 'sendCommand'>;
  tenants: Pick<TenantRegistry, 'get'>;
  logger?: Logger | undefined;
  now?: () => number;
}

type Limiter = Pick<BurstyRateLimiter, 'consume'>;

function seconds(ms: number): number {
  return Math.max(1, Math.ceil(ms / 1000));
}

function rateHeaders(rate: number, res: RateLimiterRes): Record<string, string> {
  return {
    'RateLimit-Limit': String(rate),
    'RateLimit-Remaining': String(Math.max(0, res.remainingPoints)),
    'RateLimit-Reset': String(seconds(res.msBeforeNext)),
  };
}

/** The RateLimit-* headers a RATE_LIMITED error carries (empty for any other error), for its 429 response. */
export function rateLimitHeadersOf(error: GatewayError): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const [header, detail] of Object.entries(HEADER_DETAILS)) {
    const value = error.details[detail];
    if (value !== undefined) headers[header] = value;
  }
  return headers;
}

function withDeadline<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`the database did not answer within ${ms} ms`)), ms);
  });
  return Promise.race([promise, deadline]).finally(() => clearTimeout(timer));
}

export class TenantRateLimiter {
  readonly #options: TenantRateLimiterOptions;
  readonly #plans: PlanRates;
  readonly #now: () => number;
  // One limiter per distinct rate (plans); all share the same counter keys.
  readonly #limiters = new Map<number, Limiter>();
  #lastFailOpenLogAt = Number.NEGATIVE_INFINITY;
  #lastLocalLogAt = Number.NEGATIVE_INFINITY;

  constructor(options: TenantRateLimiterOptions) {
    this.#options = options;
    this.#now = options.now ?? Date.now;
    this.#plans = new PlanRates(options.limits, options.tenants, this.#now);
  }

  /** Counts one request; returns the RateLimit-* headers, or throws RATE_LIMITED (details.retryAfterSec). */
  async consume(tenant: string): Promise<Record<string, string>> {
    if (this.#plans.unlimited) return {};
    let rate: number;
    try {
      rate = await this.#plans.rateFor(tenant);
    } catch (error) {
      this.#failOpen(error);
      return {};
    }
    if (rate === 0) return {};
    let res: RateLimiterRes;
    try {
      res = await withDeadline(this.#limiter(rate).consume(stateKeys.rateCounterId(tenant)), FAIL_OPEN_AFTER_MS);
    } catch (error) {
      if (error instanceof RateLimiterRes) throw this.#refusal(tenant, rate, error);
      this.#failOpen(error);
      return {};
    }
    return rateHeaders(rate, res);
  }

  #limiter(rate: number): Limiter {
    let limiter = this.#limiters.get(rate);
    if (limiter !== undefined) return limiter;
    const shared = scriptClient(this.#options.db);
    const storeClient = {
      eval: (script: string, options: { keys: string[]; arguments: string[] }) =>
        shared.eval(script, options).catch((error: unknown) => {
          this.#countingLocally(error);
          throw error;
        }),
    };
    const counter = (keyPrefix: string, points: number) =>
      new RLWrapperTimeouts({
        limiter: new RateLimiterRedis({
          storeClient,
          useRedisPackage: true,
          keyPrefix,
          points,
          duration: RATE_WINDOW_SEC,
          // Once a tenant is over, this instance refuses it from memory until the window ends, sparing the database a flood.
          inMemoryBlockOnConsumed: points + 1,
          // Counts this instance's requests while the database cannot: the same limit, per instance.
          insuranceLimiter: new RateLimiterMemory({ keyPrefix, points, duration: RATE_WINDOW_SEC }),
        }),
        timeoutMs: COUNT_TIMEOUT_MS,
      });
    const burst = this.#options.limits.rateBurst;
    limiter = burst === 0 ? counter(stateKeys.rateCounterPrefix(), rate) : new BurstyRateLimiter(counter(stateKeys.rateCounterPrefix(), rate), counter(stateKeys.rateBurstPrefix(), burst));
    this.#limiters.set(rate, limiter);
    return limiter;
  }

  #refusal(tenant: string, rate: number, res: RateLimiterRes): GatewayError {
    const retryAfter = seconds(res.msBeforeNext);
    const burst = this.#options.limits.rateBurst;
    const allowance = burst === 0 ? `${rate} requests per minute` : `${rate} requests per minute plus a burst of ${burst}`;
    const headers = rateHeaders(rate, res);
    return new GatewayError(
      'RATE_LIMITED',
      `Tenant "${tenant}" is over its rate limit of ${allowance}, shared by every gateway instance. Retry in ${retryAfter} s; to make more calls, spread them out or ask the operator for a higher plan.`,
      {
        retryAfterSec: String(retryAfter),
        ...Object.fromEntries(Object.entries(HEADER_DETAILS).map(([header, detail]) => [detail, headers[header]!])),
      },
    );
  }

  #countingLocally(error: unknown): void {
    const at = this.#now();
    if (at - this.#lastLocalLogAt < FAIL_OPEN_LOG_INTERVAL_MS) return;
    this.#lastLocalLogAt = at;
    this.#options.logger?.warn(
      { reason: error instanceof Error ? error.message : String(error) },
      "rate limit counted in this instance's memory: the database server could not count; each instance holds tenants to the limit alone until it can (logged at most once a minute)",
    );
  }

  #failOpen(error: unknown): void {
    const at = this.#now();
    if (at - this.#lastFailOpenLogAt < FAIL_OPEN_LOG_INTERVAL_MS) return;
    this.#lastFailOpenLogAt = at;
    this.#options.logger?.warn(
      { reason: error instanceof Error ? error.message : String(error) },
      'rate limit not counted: the database server could not be reached; letting requests through until it can (logged at most once a minute)',
    );
  }
}
