// The stricter of a replica's policy state and what the primary last said.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { TenantRecord } from '../state/tenants.js';
import { LastSeenPolicy } from './last-seen-policy.js';

const token = { tenant: 'acme', jti: 'j1', device: 'laptop', issuedAt: 1_000 };

function tenant(status: TenantRecord['status'], updatedAt = 1): TenantRecord {
  return { id: 'acme', status, allowIps: [], createdAt: 0, updatedAt };
}

describe('LastSeenPolicy', () => {
  it('takes the replica\'s word for tenants and tokens it never saw', () => {
    const seen = new LastSeenPolicy();
    assert.equal(seen.stricterTenant('acme', tenant('enabled'), true)?.status, 'enabled');
    assert.deepEqual(seen.stricterRevocation(token, {}), {});
  });

  it('keeps a revoked token revoked and the later cut-offs, whatever the replica lacks', () => {
    const seen = new LastSeenPolicy();
    seen.remember(token, tenant('enabled'), { jtiRevokedAt: 5, tenantCutoff: 900, deviceCutoff: 1_000 });
    assert.deepEqual(seen.stricterRevocation(token, { tenantCutoff: 950 }), { jtiRevokedAt: 5, tenantCutoff: 950, deviceCutoff: 1_000 });
  });

  it('keeps a disabled tenant disabled, also when the replica says enabled and is newer', () => {
    const seen = new LastSeenPolicy();
    seen.remember(token, tenant('disabled', 1), {});
    assert.equal(seen.stricterTenant('acme', tenant('enabled', 2), false)?.status, 'disabled');
    seen.remember(token, tenant('enabled', 1), {});
    assert.equal(seen.stricterTenant('acme', tenant('disabled', 0), false)?.status, 'disabled');
  });

  it('counts a missing record as stricter only when a missing tenant is refused', () => {
    const seen = new LastSeenPolicy();
    seen.remember(token, tenant('enabled'), {});
    assert.equal(seen.stricterTenant('acme', undefined, true), undefined);
    assert.equal(seen.stricterTenant('acme', undefined, false)?.status, 'enabled', 'the record kept, with its address and graph rules');
    seen.remember(token, undefined, {});
    assert.equal(seen.stricterTenant('acme', tenant('enabled'), true), undefined);
  });
});
