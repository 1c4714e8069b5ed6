// Makes a text safe to show a tenant: its own key prefix removed, and nothing
// that names gateway state or another tenant's key. Applied to every error text
// that leaves a tool.

import { GATEWAY_STATE_PREFIX, parseTenantGraphKey, tenantKeyPrefix } from './keys.js';

const KEY_LIKE = /(?:[A-Za-z0-9.-]|%[0-9A-Fa-f]{2})+_[A-Za-z0-9][A-Za-z0-9_.-]*/g;
const STATE_REF = new RegExp(`${GATEWAY_STATE_PREFIX.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\S*`, 'g');

export interface ScrubOptions {
  /** What the tenant itself sent (e.g. its query text): tokens found there are its own words (`first_name`), not leaked keys. */
  callerInput?: string;
  /** The text came from the database rather than the gateway's own wording: hide anything shaped like another tenant's key. */
  untrusted?: boolean;
}

export function scrubForTenant(text: string, tenant: string, { callerInput = '', untrusted = true }: ScrubOptions = {}): string {
  const prefix = tenantKeyPrefix(tenant);
  return text
    .replace(STATE_REF, (ref) => (callerInput.includes(ref) ? ref : '[internal]'))
    .replace(KEY_LIKE, (token) => {
      if (callerInput.includes(token)) return token;
      if (token.startsWith(prefix)) return token.slice(prefix.length);
      if (!untrusted) return token;
      const parsed = parseTenantGraphKey(token);
      return parsed !== undefined && parsed.tenant !== tenant ? '[hidden]' : token;
    });
}
