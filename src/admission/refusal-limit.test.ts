import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createAuthFailureLimit } from './refusal-limit.js';

describe('createAuthFailureLimit', () => {
  it('refuses an address once it has failed the limit, with Retry-After, and no other address', async () => {
    const limit = createAuthFailureLimit(3);
    for (let i = 0; i < 3; i++) {
      assert.equal(await limit.refusal('10.0.0.1'), undefined);
      await limit.failed('10.0.0.1');
    }
    const refused = await limit.refusal('10.0.0.1');
    assert.equal(refused?.code, 'AUTH_FAILURES_LIMITED');
    assert.equal(refused.httpStatus, 429);
    assert.match(refused.details['retryAfterSec'] ?? '', /^[1-9]\d*$/);
    assert.match(refused.message, /limit 3 a minute/);
    assert.equal(await limit.refusal('10.0.0.2'), undefined);
  });

  it('counts requests of unknown address together', async () => {
    const limit = createAuthFailureLimit(1);
    await limit.failed(undefined);
    assert.equal((await limit.refusal(undefined))?.code, 'AUTH_FAILURES_LIMITED');
  });

  it('never refuses when turned off with 0', async () => {
    const limit = createAuthFailureLimit(0);
    for (let i = 0; i < 5; i++) await limit.failed('10.0.0.1');
    assert.equal(await limit.refusal('10.0.0.1'), undefined);
  });
});
