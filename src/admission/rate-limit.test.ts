// The rate limiter when the database cannot count: this instance counts in its
// own memory, and the operator hears of it at most once a minute.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { GatewayError } from '../errors.js';
import type { Logger } from '../logger.js';
import { rateLimitHeadersOf, TenantRateLimiter } from './rate-limit.js';

function recordingLogger(): { logger: Logger; warnings: unknown[][] } {
  const warnings: unknown[][] = [];
  return { logger: { warn: (...args: unknown[]) => warnings.push(args) } as unknown as Logger, warnings };
}

const unreachable = {
  sendCommand: () => Promise.reject(new GatewayError('DATABASE_UNREACHABLE', 'FalkorDB at test is unavailable: not connected; reconnecting. Try again shortly.')),
};
const limits = { ratePerMinute: 1, rateBurst: 0, ratePlans: {} };

describe('TenantRateLimiter', () => {
  it("counts in this instance's memory while the database cannot be reached, and logs it once a minute", async () => {
    let now = 1_000_000;
    const { logger, warnings } = recordingLogger();
    const limiter = new TenantRateLimiter({ limits, db: unreachable, tenants: { get: () => Promise.resolve(undefined) }, logger, now: () => now });
    assert.equal((await limiter.consume('acme'))['RateLimit-Remaining'], '0');
    // Over the rate of 1: refused from memory, as the shared count would have.
    await assert.rejects(limiter.consume('acme'), (e: GatewayError) => e.code === 'RATE_LIMITED');
    await assert.rejects(limiter.consume('acme'), (e: GatewayError) => e.code === 'RATE_LIMITED');
    // Another tenant has its own count.
    assert.equal((await limiter.consume('widgets'))['RateLimit-Remaining'], '0');
    assert.equal(warnings.length, 1);
    assert.match(String(warnings[0]![1]), /counted in this instance's memory/);
    now += 60_000;
    await limiter.consume('other').catch(() => undefined);
    assert.equal(warnings.length, 2);
  });

  it('lets requests through when the tenant registry cannot be read for the plan', async () => {
    const { logger, warnings } = recordingLogger();
    const limiter = new TenantRateLimiter({
      limits: { ...limits, ratePlans: { pro: 100 } },
      db: unreachable,
      tenants: { get: () => unreachable.sendCommand() },
      logger,
    });
    assert.deepEqual(await limiter.consume('acme'), {});
    assert.equal(warnings.length, 1);
  });

  it('counts nothing, and asks the database nothing, when every rate is 0', async () => {
    let asked = 0;
    const db = {
      sendCommand: () => {
        asked++;
        return Promise.resolve(null);
      },
    };
    const limiter = new TenantRateLimiter({ limits: { ratePerMinute: 0, rateBurst: 5, ratePlans: { free: 0 } }, db, tenants: { get: () => Promise.resolve(undefined) } });
    assert.deepEqual(await limiter.consume('acme'), {});
    assert.equal(asked, 0);
  });
});

describe('rateLimitHeadersOf', () => {
  it('gives the RateLimit-* headers a RATE_LIMITED error carries, and none for other errors', () => {
    const limited = new GatewayError('RATE_LIMITED', 'over', { retryAfterSec: '7', rateLimit: '5', rateLimitRemaining: '0', rateLimitReset: '7' });
    assert.deepEqual(rateLimitHeadersOf(limited), { 'RateLimit-Limit': '5', 'RateLimit-Remaining': '0', 'RateLimit-Reset': '7' });
    assert.deepEqual(rateLimitHeadersOf(new GatewayError('SCOPE_MISSING', 'no', { scope: 'write' })), {});
  });
});
