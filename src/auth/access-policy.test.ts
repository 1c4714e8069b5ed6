// The policy cache on its own, with a fake clock and state: busy principals
// are answered from the cache while a fresh lookup runs in the background, and
// still no answer is ever older than the cache time. The first suite's state has
// no change stream (its reads fail), so answers are looked up every second; the
// second's has one, so answers are kept until it names their tenant or token.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { setImmediate as nextTurn } from 'node:timers/promises';
import type { GatewayState } from '../gateway-state.js';
import type { ChangeEntry, PolicyChange } from '../state/policy-changes.js';
import type { TenantRecord } from '../state/tenants.js';
import type { RevocationState } from '../state/tokens.js';
import { createAccessPolicy } from './access-policy.js';
import { PolicyWatch } from './policy-watch.js';
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

/** Tenant records, revoked jtis and the change stream, as a writer would leave them. */
function fakeWorld() {
  const records = new Map<string, TenantRecord>();
  const revokedJtis = new Map<string, number>();
  const stream: ChangeEntry[] = [];
  let lookups = 0;
  let down = false;
  const order = (id: string) => Number(id.split('-')[0]);
  const note = (change: PolicyChange) => stream.push({ id: `${stream.length + 1}-0`, change });
  const unreachable = () => Promise.reject(new Error('down'));
  const state = {
    store: { primaryAvailable: true },
    tenants: { get: (id: string) => (down ? unreachable() : Promise.resolve(records.get(id))) },
    ledger: {
      revocationState: (p: Principal) => {
        if (down) return unreachable();
        lookups += 1;
        const at = p.jti === undefined ? undefined : revokedJtis.get(p.jti);
        return Promise.resolve(at === undefined ? {} : { jtiRevokedAt: at });
      },
      markUsed: () => Promise.resolve(),
    },
  } as unknown as GatewayState;
  return {
    state,
    lookups: () => lookups,
    setDown: (value: boolean) => (down = value),
    disable(id: string, noted = true) {
      records.set(id, { id, status: 'disabled', allowIps: [], createdAt: 0, updatedAt: 1 });
      if (noted) note({ tenant: id });
    },
    revoke(jti: string, at: number) {
      revokedJtis.set(jti, at);
      note({ jti });
    },
    newest: () => (down ? unreachable() : Promise.resolve(stream.at(-1))),
    from: (from: string, count: number) => (down ? unreachable() : Promise.resolve(stream.filter((e) => order(e.id) >= order(from)).slice(0, count))),
  };
}

function watchedPolicy(world: ReturnType<typeof fakeWorld>, clock: { at: number }, maxAgeMs?: number) {
  let watch!: PolicyWatch;
  const policy = createAccessPolicy({
    state: world.state,
    requireRegistration: false,
    now: () => clock.at,
    cacheMs: 1000,
    ...(maxAgeMs === undefined ? {} : { maxAgeMs }),
    recordUse: false,
    watch: (onChanges) => (watch = new PolicyWatch({ newest: world.newest, from: world.from, onChanges, now: () => clock.at, intervalMs: 0, resyncAfterMs: 300_000 })),
  });
  return { policy, poll: () => watch.poll() };
}

const other: Principal = { ...principal, tenant: 'globex', subject: 'globex', jti: 'j2' };

describe('access policy kept by the change stream', () => {
  it('answers from memory, without lookups, for as long as each half-second read of the stream names nothing', async () => {
    const clock = { at: 0 };
    const world = fakeWorld();
    const { policy, poll } = watchedPolicy(world, clock);
    await poll();
    await policy.check(principal, undefined);
    assert.equal(world.lookups(), 1);
    for (clock.at = 500; clock.at <= 30_000; clock.at += 500) {
      await poll();
      await policy.check(principal, undefined);
    }
    assert.equal(world.lookups(), 1);
  });

  it('reads the stream at once, instead of looking each answer up, when its read is late', async () => {
    const clock = { at: 0 };
    const world = fakeWorld();
    const { policy, poll } = watchedPolicy(world, clock);
    await poll();
    await policy.check(principal, undefined);
    clock.at = 100;
    await poll();
    // The next read is due at 600 and has not come by 900.
    clock.at = 900;
    world.disable('acme');
    await policy.check(principal, undefined);
    await nextTurn();
    await nextTurn();
    assert.equal(world.lookups(), 1, 'no lookup of its own');
    clock.at = 950;
    await assert.rejects(policy.check(principal, undefined), { code: 'TENANT_DISABLED' }, 'the read named the tenant');
  });

  it("forgets only the named tenant's answers, and a revoked token's", async () => {
    const clock = { at: 0 };
    const world = fakeWorld();
    const { policy, poll } = watchedPolicy(world, clock);
    await poll();
    await policy.check(principal, undefined);
    await policy.check(other, undefined);
    assert.equal(world.lookups(), 2);
    world.disable('acme');
    clock.at = 500;
    await poll();
    await assert.rejects(policy.check(principal, undefined), { code: 'TENANT_DISABLED' });
    await policy.check(other, undefined);
    assert.equal(world.lookups(), 3, 'globex was answered from memory');
    world.revoke('j2', 400);
    clock.at = 1000;
    await poll();
    await assert.rejects(policy.check(other, undefined), { code: 'TOKEN_REVOKED' });
  });

  it('keeps what a write around the stream changed only until the maximum age', async () => {
    const clock = { at: 0 };
    const world = fakeWorld();
    const { policy, poll } = watchedPolicy(world, clock, 10_000);
    await poll();
    await policy.check(principal, undefined);
    world.disable('acme', false);
    for (clock.at = 500; clock.at < 9_000; clock.at += 500) {
      await poll();
      await policy.check(principal, undefined);
    }
    clock.at = 10_000;
    await poll();
    await assert.rejects(policy.check(principal, undefined), { code: 'TENANT_DISABLED' });
  });

  it('looks up again once no read of the stream has succeeded for a second, and refuses while the database is down', async () => {
    const clock = { at: 0 };
    const world = fakeWorld();
    const { policy, poll } = watchedPolicy(world, clock);
    await poll();
    await policy.check(principal, undefined);
    world.setDown(true);
    clock.at = 500;
    await poll();
    await policy.check(principal, undefined);
    clock.at = 1001;
    await poll();
    await assert.rejects(policy.check(principal, undefined), 'nothing is known current: the lookup is made, and fails');
    world.setDown(false);
    clock.at = 1100;
    await policy.check(principal, undefined);
  });

  it('refuses a token revoked while requests keep coming within a second of the write', async () => {
    const clock = { at: 0 };
    const world = fakeWorld();
    const { policy, poll } = watchedPolicy(world, clock);
    let firstRefusedAt: number | undefined;
    // Requests every 50 ms, reads of the stream every 500 ms; the token is revoked at 2,130 ms.
    for (clock.at = 0; clock.at <= 5000; clock.at += 50) {
      if (clock.at % 500 === 0) await poll();
      if (clock.at === 2150) world.revoke('j1', 2130);
      if (await refused(policy.check(principal, undefined))) firstRefusedAt ??= clock.at;
      else assert.equal(firstRefusedAt, undefined, `accepted at ${clock.at} after a refusal`);
      await nextTurn();
    }
    assert.ok(firstRefusedAt !== undefined && firstRefusedAt <= 2150 + 1000, `refused from ${firstRefusedAt}`);
  });
});
