// Which tenant label a metric sample gets: bounds the number of time series a
// gateway with many tenants produces (METRICS_TENANT_LABELS).

import type { Config } from '../config/index.js';

/** The label shared by every tenant that does not get its own. */
export const OTHER_TENANTS = 'other';

export type TenantLabelMode = Config['metrics']['tenantLabels'];

/**
 * 'all': each tenant its own label; 'none': all share OTHER_TENANTS; N: the first N
 * distinct tenants this instance sees keep their own, later ones share OTHER_TENANTS.
 * A tenant's label never changes while the process lives, so its series never split.
 */
export function createTenantLabeler(mode: TenantLabelMode): (tenant: string) => string {
  if (mode === 'all') return (tenant) => tenant;
  if (mode === 'none') return () => OTHER_TENANTS;
  const kept = new Set<string>();
  return (tenant) => {
    if (kept.has(tenant)) return tenant;
    // The set only grows, and stops growing once full: whoever was turned away stays "other".
    if (kept.size >= mode) return OTHER_TENANTS;
    kept.add(tenant);
    return tenant;
  };
}
