// A tenant's per-minute rate: its registry plan's rate when RATE_LIMIT_PLANS
// names that plan, else RATE_LIMIT_PER_MINUTE. Plans are cached briefly, so a
// plan change reaches every instance within PLAN_CACHE_TTL_MS.

import { LRUCache } from 'lru-cache';
import type { Config } from '../config/index.js';
import type { TenantRegistry } from './tenants.js';

export const PLAN_CACHE_TTL_MS = 5000;

type RateLimits = Pick<Config['limits'], 'ratePerMinute' | 'ratePlans'>;

export class PlanRates {
  readonly #limits: RateLimits;
  readonly #usePlans: boolean;
  // Wrapped so "no plan" can be cached too; fetch() also folds concurrent lookups into one.
  readonly #plans: LRUCache<string, { plan: string | undefined }>;

  constructor(limits: RateLimits, tenants: Pick<TenantRegistry, 'get'>, now: () => number = Date.now) {
    this.#limits = limits;
    this.#usePlans = Object.keys(limits.ratePlans).length > 0;
    this.#plans = new LRUCache({
      max: 10_000,
      ttl: PLAN_CACHE_TTL_MS,
      perf: { now },
      fetchMethod: async (tenant) => ({ plan: (await tenants.get(tenant))?.plan }),
    });
  }

  /** True when no tenant can have a limit, so nothing needs counting. */
  get unlimited(): boolean {
    return this.#limits.ratePerMinute === 0 && Object.values(this.#limits.ratePlans).every((rate) => rate === 0);
  }

  /** Requests per minute for the tenant; 0: no limit. Rejects when the registry cannot be read. */
  async rateFor(tenant: string): Promise<number> {
    if (!this.#usePlans) return this.#limits.ratePerMinute;
    const entry = await this.#plans.fetch(tenant);
    const plan = entry?.plan;
    return plan !== undefined && Object.hasOwn(this.#limits.ratePlans, plan) ? this.#limits.ratePlans[plan]! : this.#limits.ratePerMinute;
  }
}
