// The policy cache on its own, with a fake clock and state: busy principals
// are answered from the cache while a fresh lookup runs in the background, and
// still no answer is ever older than the cache time.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { setImmediate as nextTurn } from 'node:timers/promises';
import type { GatewayState } from '../gateway-state.js';
import type { RevocationState } from '../state/tokens.js';
import { createAccessPolicy } from './access-policy.js';
import type { Principal } from '../tenancy/principal.js';

const principal: Principal = { tenant: 'acme', subject: 'acme', scopes: ['read'], expiresAt: 4_000_000_000, issuedAt: 100, jti: 'j1' };

function fakeState() {
  const revocation: RevocationState = {};
  let lookups = 0;
  let gate: Promise<void> = Promise.resolve();
  const state = {
    store: { primaryAvailable: true },
    tenants: { get: () => Promise.resolve(undefined) },
    ledger: {
      revocationState: async () => {
        lookups += 1;
        // What the database holds when the lookup is sent, answered whenever the gate opens.
        const seen = { ...revocation };
        await gate;
        return seen;
      },
      markUsed: () => Promise.resolve(),
    },
  } as unknown as GatewayState;
  return {
    state,
    revoke: (at: number) => (revocation.jtiRevokedAt = at),
    lookups: () => lookups,
    holdReplies: () => {
      let open!: () => void;
      gate = new Promise((resolve) => (open = resolve));
      return () => {
        gate = Promise.resolve();
        open();
      };
    },
  };
}

const refused = async (check: Promise<void>) => check.then(() => false, () => true);

describe('access policy cache', () => {
  it('answers from the cache while a background lookup refreshes it, without waiting for the database', async () => {
    let clock = 0;
    const fake = fakeState();
    const policy = createAccessPolicy({ state: fake.state, requireRegistration: false, now: () => clock, cacheMs: 1000, recordUse: false });
    await policy.check(principal, undefined);
    assert.equal(fake.lookups(), 1);
    clock = 500;
    await policy.check(principal, undefined);
    assert.equal(fake.lookups(), 1, 'young entries are simply reused');

    clock = 800;
    const release = fake.holdReplies();
    // The database is slow: the request is answered from the cache all the same.
    await policy.check(principal, undefined);
    assert.equal(fake.lookups(), 2, 'a refresh started');
    await policy.check(principal, undefined);
    assert.equal(fake.lookups(), 2, 'one refresh at a time');
    release();
    await nextTurn();
    clock = 1500;
    await policy.check(principal, undefined);
    assert.equal(fake.lookups(), 2, 'the refreshed entry counts from when its lookup began');
  });

  it('never answers with facts older than the cache time, busy or not', async () => {
    let clock = 0;
    const fake = fakeState();
    const policy = createAccessPolicy({ state: fake.state, requireRegistration: false, now: () => clock, cacheMs: 1000, recordUse: false });
    // A request every 50 ms; the token is revoked at 2,130 ms.
    let firstRefusedAt: number | undefined;
    for (clock = 0; clock <= 5000; clock += 50) {
      if (clock === 2150) fake.revoke(2130);
      if (await refused(policy.check(principal, undefined))) {
        firstRefusedAt ??= clock;
      } else {
        assert.equal(firstRefusedAt, undefined, `accepted at ${clock} after a refusal`);
      }
      await nextTurn();
    }
    assert.ok(firstRefusedAt !== undefined && firstRefusedAt <= 2150 + 1000, `refused from ${firstRefusedAt}`);
  });

  it('does not keep an entry whose background refresh failed past its time', async () => {
    let clock = 0;
    const fake = fakeState();
    let failing = false;
    const state = {
      ...fake.state,
      ledger: { ...fake.state.ledger, revocationState: (p: Principal) => (failing ? Promise.reject(new Error('down')) : fake.state.ledger.revocationState(p)) },
    } as unknown as GatewayState;
    const policy = createAccessPolicy({ state, requireRegistration: false, now: () => clock, cacheMs: 1000, recordUse: false });
    await policy.check(principal, undefined);
    failing = true;
    clock = 900;
    await policy.check(principal, undefined);
    await nextTurn();
    clock = 1001;
    assert.equal(await refused(policy.check(principal, undefined)), true, 'after the cache time the lookup is made again, and its failure shows');
  });
});
