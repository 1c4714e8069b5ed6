// Whether a tenant may be given new credentials (tokens, enrolment codes):
// not while it is disabled, nor unregistered when registration is required.

import { GatewayError } from '../errors.js';
import type { TenantRegistry } from '../state/tenants.js';

/** Throws TENANT_DISABLED or TENANT_NOT_REGISTERED, each saying the command that fixes it. */
export async function assertTenantMayHold(tenants: TenantRegistry, tenant: string, requireRegistration: boolean): Promise<void> {
  const record = await tenants.get(tenant);
  if (record?.status === 'disabled') {
    throw new GatewayError('TENANT_DISABLED', `Tenant "${tenant}" is disabled; enable it first (tenant enable ${tenant}).`);
  }
  if (record === undefined && requireRegistration) {
    throw new GatewayError('TENANT_NOT_REGISTERED', `Tenant "${tenant}" is not registered and TENANTS_REQUIRE_REGISTRATION is on; add it first (tenant add ${tenant}).`);
  }
}
