// Who is calling: the facts a verified token establishes, and nothing from an
// unverified source. Everything past authentication works from this.

import type { Scope } from './scopes.js';

export interface Principal {
  /** Tenant id from the verified tenant claim; the only source of tenancy. */
  readonly tenant: string;
  /** The token's `sub`, or the tenant when the token has none. */
  readonly subject: string;
  /** Expanded: admin ⇒ write ⇒ read. */
  readonly scopes: readonly Scope[];
  /** Graph-name patterns of the token's `graphs` claim; absent: the token does not narrow its graphs. */
  readonly graphs?: readonly string[];
  /** `exp`, epoch seconds. */
  readonly expiresAt: number;
  /** `iat`, epoch seconds. */
  readonly issuedAt?: number;
  readonly jti?: string;
  /** Device name the token was issued for (gateway-issued tokens). */
  readonly device?: string;
  /** Set when the tenant's own registered key (not a gateway-wide one) verified the token. */
  readonly signedBy?: 'tenant';
  /** Thumbprint of that tenant key (PEM keys), to notice when the tenant's key is replaced. */
  readonly tenantKeyKid?: string;
}
