// Enrolling a device through the sign-in page: the operator's side makes a
// one-time code for a tenant that may hold credentials and audits it; the
// sign-in page spends the code and audits that with `enrolmentUsedEvent`.
// Audit events name the record's id, never the code.

import type { AuditFacts } from '../observability/audit.js';
import type { EnrolmentInput, EnrolmentRecord } from '../state/enrolments.js';
import type { GatewayState } from '../gateway-state.js';
import { validateTenantId } from '../tenancy/tenant-id.js';
import { assertTenantMayHold } from './tenant-may-hold.js';

export interface EnrolDeps {
  state: Pick<GatewayState, 'tenants' | 'enrolments' | 'audit'>;
  requireRegistration: boolean;
}

/** What an enrolment grants, as audit events say it. */
function grantDetail(record: EnrolmentRecord): string {
  return `enrolment=${record.id} scopes=${record.scopes.join(' ')}${record.graphs === undefined ? '' : ` graphs=${record.graphs.join(',')}`}`;
}

/**
 * Makes a code for a tenant that may hold tokens (TENANT_DISABLED, TENANT_NOT_REGISTERED
 * otherwise, before anything is stored) and records `enrolment_created`.
 */
export async function createEnrolment(deps: EnrolDeps, input: EnrolmentInput): Promise<{ code: string; record: EnrolmentRecord }> {
  const tenant = validateTenantId(input.tenant);
  await assertTenantMayHold(deps.state.tenants, tenant, deps.requireRegistration);
  const created = await deps.state.enrolments.create({ ...input, tenant });
  const { record } = created;
  await deps.state.audit.record({
    event: 'enrolment_created',
    tenant: record.tenant,
    device: record.device,
    actor: input.createdBy,
    detail: `${grantDetail(record)} expires=${new Date(record.expiresAt * 1000).toISOString()}`,
  });
  return created;
}

/**
 * The `enrolment_used` event for a code spent on the sign-in page: tenant, device and
 * grant from the record; `jti` of the access token it led to, when there is one.
 * Record it with `state.audit.record(enrolmentUsedEvent(record, {...}))`.
 */
export function enrolmentUsedEvent(record: EnrolmentRecord, facts: { actor: string; clientIp?: string; jti?: string; detail?: string }): AuditFacts {
  return {
    event: 'enrolment_used',
    tenant: record.tenant,
    device: record.device,
    ...(facts.jti === undefined ? {} : { jti: facts.jti }),
    ...(facts.clientIp === undefined ? {} : { clientIp: facts.clientIp }),
    actor: facts.actor,
    detail: `${grantDetail(record)}${facts.detail === undefined ? '' : ` ${facts.detail}`}`,
  };
}
