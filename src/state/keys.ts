// The ONE place gateway state keys are built. Everything lives under `gw:`,
// which no tenant graph key can start with (see tenancy/keys.ts), and tenant
// ids appear in their encoded form, so no id can reach into another's keys.
//
// On a Redis/Valkey Cluster only the part in `{…}` (the hash tag) picks a key's
// shard. Keys about one thing carry that thing's tag, so a command or transaction
// over several of them stays on one shard: a tenant's records, cut-offs, indexes
// and cache versions share `{<encoded tenant>}`; a token's keys `{<jti>}`; a
// refresh token's and an enrolment code's `{<hash>}`; a family's `{<id>}`. Keys only ever used alone
// (rate counters, audit streams, usage counters, global indexes) have no tag and
// spread over the shards by their whole name.

import { GATEWAY_STATE_PREFIX, encodedTenantId } from '../tenancy/keys.js';

const P = GATEWAY_STATE_PREFIX;

/** jti values and hashes come from tokens; anything outside a safe set is percent-encoded. */
function part(value: string): string {
  return encodeURIComponent(value).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

export const stateKeys = {
  /** Tenant record (JSON). */
  tenant: (tenant: string) => `${P}tenant:{${encodedTenantId(tenant)}}`,
  /** Set of the graph keys a tenant's writes touched during the copy of a `tenant move` (its id), copied again at the switch-over. */
  moveChanges: (tenant: string, moveId: string) => `${P}move-changes:{${encodedTenantId(tenant)}}:${part(moveId)}`,
  /** Count of the tenant's writes under way that a `tenant move` (its id) noted: the switch-over waits for it to reach 0. */
  moveWrites: (tenant: string, moveId: string) => `${P}move-writes:{${encodedTenantId(tenant)}}:${part(moveId)}`,
  /** Set of registered tenant ids. */
  tenantIndex: () => `${P}tenants`,
  /** Epoch seconds: every token of the tenant issued at or before it is revoked. */
  tenantCutoff: (tenant: string) => `${P}revoked-tenant:{${encodedTenantId(tenant)}}`,
  /** Epoch seconds: every token of the tenant's device issued at or before it is revoked. */
  deviceCutoff: (tenant: string, device: string) => `${P}revoked-device:{${encodedTenantId(tenant)}}:${part(device)}`,
  /** Present while a revoked token would otherwise still be valid. */
  revokedJti: (jti: string) => `${P}revoked-jti:{${part(jti)}}`,
  /**
   * Stream of changes to what the access policy reads (tenant records, revocation markers), one
   * entry per write naming the tenant or token (src/state/policy-changes.ts); polled by every instance.
   */
  policyChanges: () => `${P}policy-changes`,
  /** Record of a token the gateway issued (JSON), kept until it expires. */
  token: (jti: string) => `${P}token:{${part(jti)}}`,
  /** Sorted set of the tenant's issued jtis, scored by expiry. */
  tenantTokens: (tenant: string) => `${P}tenant-tokens:{${encodedTenantId(tenant)}}`,
  /** Epoch ms a token was last seen on a request. */
  tokenLastUsed: (jti: string) => `${P}token-used:{${part(jti)}}`,
  /** Refresh token record (JSON), keyed by the SHA-256 of the token. */
  refresh: (hash: string) => `${P}refresh:{${part(hash)}}`,
  /** Set once a refresh token has been exchanged; a second exchange is a reuse. */
  refreshUsed: (hash: string) => `${P}refresh-used:{${part(hash)}}`,
  /** Enrolment code record (JSON), keyed by the SHA-256 of the code; the code itself is never stored. */
  enrolment: (hash: string) => `${P}enrolment:{${part(hash)}}`,
  /** Set once an enrolment code has been used; a second use is refused. */
  enrolmentUsed: (hash: string) => `${P}enrolment-used:{${part(hash)}}`,
  /** A device's chain of refresh tokens (JSON). */
  family: (id: string) => `${P}family:{${part(id)}}`,
  /** Present once a family is revoked (JSON: when and why); no token is added to the family after it. */
  familyRevoked: (id: string) => `${P}family-revoked:{${part(id)}}`,
  /** Sorted set of the access-token jtis issued in a family, scored by expiry. */
  familyTokens: (id: string) => `${P}family-tokens:{${part(id)}}`,
  /** Sorted set of the tenant's families, scored by the expiry of their current refresh token. */
  tenantFamilies: (tenant: string) => `${P}tenant-families:{${encodedTenantId(tenant)}}`,
  /**
   * Rate-limit counters: rate-limiter-flexible builds `<prefix>:<id>` itself,
   * so it gets the prefixes and the encoded tenant id from here.
   */
  rateCounterPrefix: () => `${P}rate`,
  rateBurstPrefix: () => `${P}rate-burst`,
  rateCounterId: (tenant: string) => encodedTenantId(tenant),
  /**
   * Sorted set of running gateway instances (JSON: the keys they verify, issuer, audience),
   * scored by the epoch ms their announcement expires at; read by the CLI to refuse tokens they would not accept.
   */
  gateways: () => `${P}gateways`,
  /** Audit stream of events that belong to no tenant (e.g. a token that failed verification). */
  audit: () => `${P}audit`,
  /** Audit stream of one tenant's events, shared by every instance and read by `audit tail`. */
  tenantAudit: (tenant: string) => `${P}audit:${encodedTenantId(tenant)}`,
  /** Hash of one tenant's counters for one UTC day (`YYYY-MM-DD`): requests, queries, writes, errors, rows, queryMs. */
  usageDay: (tenant: string, day: string) => `${P}usage:${encodedTenantId(tenant)}:${part(day)}`,
  /** What every `usageDay` key starts with, for SCAN MATCH `<prefix>*` and for reading a tenant back out of a key. */
  usageDayPrefix: () => `${P}usage:`,
  /** Sorted set of encoded tenant ids, scored by the epoch ms of each tenant's last failed tool call. */
  usageLastErrors: () => `${P}usage-last-error`,
  usageLastErrorMember: (tenant: string) => encodedTenantId(tenant),
  /**
   * Version token of one graph's cached schema and query results (src/cache/versions.ts).
   * `{…}` is a Cluster hash tag: one tenant's version keys share a slot, so one DEL bumps several.
   */
  cacheGraphVersion: (tenant: string, graph: string) => `${P}cache-version:{${encodedTenantId(tenant)}}:graph:${part(graph)}`,
  /** Version token of the tenant's cached graph list. */
  cacheGraphListVersion: (tenant: string) => `${P}cache-version:{${encodedTenantId(tenant)}}:graphs`,
  /** A record of the OAuth authorization server (src/oauth/adapter.ts): an interaction, a code, a grant, a registered client… */
  oauth: (model: string, id: string) => `${P}oauth:${part(model)}:{${part(id)}}`,
  /** Set once the record `oauth(model, id)` is consumed (an authorization code exchanged), holding when. */
  oauthConsumed: (model: string, id: string) => `${P}oauth-consumed:${part(model)}:{${part(id)}}`,
  /** The id of the OAuth session with this uid. */
  oauthSessionUid: (uid: string) => `${P}oauth-session-uid:{${part(uid)}}`,
  /** Set of the `oauth(…)` keys issued under one grant, so the grant's revocation finds them. */
  oauthGrantMembers: (grantId: string) => `${P}oauth-grant:{${part(grantId)}}`,
  /** What an approved sign-in grants (JSON: tenant, device, scopes, graphs), read when its code is exchanged. */
  oauthAccount: (id: string) => `${P}oauth-account:{${part(id)}}`,
  /**
   * A sign-in at the upstream OpenID provider (src/oauth/upstream.ts): `start` is keyed by the
   * `state` sent there (PKCE verifier, nonce, interaction); `ticket` holds what the person's
   * claims grant until they allow it. Each is read once.
   */
  oauthUpstream: (kind: 'start' | 'ticket', id: string) => `${P}oauth-upstream-${kind}:{${part(id)}}`,
} as const;
