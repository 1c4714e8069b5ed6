// Issuing the gateway's own tokens (CLI `token issue`, and the refresh
// exchange behind /oauth/token): sign, record in the ledger for `token list`
// and revocation, and, when asked, start or continue a refresh family.

import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Config } from '../config/index.js';
import { GatewayError } from '../errors.js';
import type { GatewayState } from '../gateway-state.js';
import type { RefreshRecord } from '../state/refresh.js';
import { revocationReason } from '../state/tokens.js';
import { validateTenantId } from '../tenancy/tenant-id.js';
import { validateDeviceName } from '../tenancy/device-name.js';
import { validateGraphPattern } from '../tenancy/graph-rules.js';
import { SCOPES, isScope, type Scope } from '../tenancy/scopes.js';
import { signAccessToken, type SigningKey } from './signing.js';
import { assertTenantMayHold } from './tenant-may-hold.js';

export interface IssuerDeps {
  signingKey: SigningKey;
  state: GatewayState;
  auth: Pick<Config['auth'], 'issuer' | 'audience' | 'tenantClaim' | 'accessTokenTtlSec' | 'refreshTokenTtlSec'>;
  requireRegistration: boolean;
  now?: () => number;
}

export interface IssueRequest {
  tenant: string;
  scopes: readonly Scope[];
  /** Access token lifetime; ACCESS_TOKEN_TTL when unset. */
  ttlSec?: number | undefined;
  device?: string | undefined;
  /** Graph-name patterns the token is limited to (its `graphs` claim); absent: every graph the tenant allows. */
  graphs?: readonly string[] | undefined;
  /** Also issue a refresh token (a new family). */
  withRefresh?: boolean;
  /** The tokens' `aud` instead of AUTH_AUDIENCE: the resource an OAuth client signed in for (RFC 8707); refreshes keep it. */
  audience?: string;
  /** The OAuth client_id the refresh token is bound to: only that client may refresh it (OAuth 2.1 §4.3.1). */
  client?: string;
  /** Who asked, for the audit trail. */
  actor: string;
}

/**
 * Who presents a refresh token: an OAuth client by its client_id (the provider's token
 * endpoint), anyone at /oauth/token (the endpoint of CLI-issued tokens), or the operator.
 */
export type RefreshPresenter = { client: string } | 'token-endpoint' | 'operator';

export interface IssuedTokens {
  accessToken: string;
  jti: string;
  tenant: string;
  device: string | undefined;
  scopes: readonly Scope[];
  /** The token's `graphs` claim, when it has one. */
  graphs?: readonly string[] | undefined;
  /** Seconds from now. */
  expiresIn: number;
  /** Epoch seconds. */
  expiresAt: number;
  refreshToken?: string;
  refreshExpiresAt?: number;
}

function grantRefused(message: string, oauthError = 'invalid_grant'): GatewayError {
  return new GatewayError('GRANT_INVALID', message, { oauthError });
}

function unknownRefreshToken(): GatewayError {
  return grantRefused('The refresh token is not valid: it is unknown or has expired. Ask the operator for a new token.');
}

export class TokenIssuer {
  readonly #deps: IssuerDeps;
  readonly #now: () => number;

  constructor(deps: IssuerDeps) {
    this.#deps = deps;
    this.#now = deps.now ?? Date.now;
  }

  /** Refuses tenants that are disabled, or unregistered when registration is required. */
  #assertTenantMayHold(tenant: string): Promise<void> {
    return assertTenantMayHold(this.#deps.state.tenants, tenant, this.#deps.requireRegistration);
  }

  /** Now, moved past any revocation cut-off set in this same second, so new tokens never fall under it. */
  async #issueMoment(tenant: string, device: string | undefined): Promise<number> {
    const earliest = await this.#deps.state.ledger.earliestIssueSecond(tenant, device);
    const wait = earliest * 1000 - this.#now();
    if (wait <= 0 || wait > 1000) return this.#now();
    await sleep(wait);
    // A timer may end a millisecond before the wall clock reaches the moment it waited for.
    return Math.max(this.#now(), earliest * 1000);
  }

  /**
   * Signs and records an access token issued at `at` (epoch ms). In a family, the
   * token is added to it first: a family revoked meanwhile refuses it, and it is
   * never recorded or handed out.
   */
  async #sign(tenant: string, scopes: readonly Scope[], graphs: readonly string[] | undefined, ttlSec: number, device: string | undefined, family: string | undefined, at: number, audience: string | undefined): Promise<{ token: string; jti: string; issuedAt: number; expiresAt: number }> {
    const jti = randomUUID();
    const token = await signAccessToken(
      this.#deps.signingKey,
      { tenant, scopes, ttlSeconds: ttlSec, jti, ...(device === undefined ? {} : { device }), ...(graphs === undefined ? {} : { graphs }) },
      { ...this.#deps.auth, ...(audience === undefined ? {} : { audience }), now: () => at },
    );
    const issuedAt = Math.floor(at / 1000);
    const expiresAt = issuedAt + ttlSec;
    if (family !== undefined && !(await this.#deps.state.refresh.addAccessToken(family, jti, expiresAt))) {
      throw grantRefused('The refresh token was revoked while it was being exchanged. Ask the operator for a new token.');
    }
    await this.#deps.state.ledger.record({
      jti,
      tenant,
      ...(device === undefined ? {} : { device }),
      scopes: [...scopes],
      ...(graphs === undefined ? {} : { graphs: [...graphs] }),
      issuedAt,
      expiresAt,
      ...(family === undefined ? {} : { family }),
    });
    return { token, jti, issuedAt, expiresAt };
  }

  async issue(request: IssueRequest): Promise<IssuedTokens> {
    const tenant = validateTenantId(request.tenant);
    const device = request.device === undefined ? undefined : validateDeviceName(request.device);
    const ttlSec = request.ttlSec ?? this.#deps.auth.accessTokenTtlSec;
    await this.#assertTenantMayHold(tenant);
    const scopes = SCOPES.filter((s) => request.scopes.includes(s));
    const graphs = request.graphs === undefined ? undefined : [...new Set(request.graphs.map((p) => validateGraphPattern(p)))];
    let family: string | undefined;
    let refresh: { token: string; expiresAt: number } | undefined;
    const at = await this.#issueMoment(tenant, device);
    if (request.withRefresh === true) {
      const created = await this.#deps.state.refresh.create({
        tenant,
        ...(device === undefined ? {} : { device }),
        scopes,
        graphs,
        audience: request.audience,
        client: request.client,
        ttlSec: this.#deps.auth.refreshTokenTtlSec,
        issuedAt: Math.floor(at / 1000),
      });
      family = created.record.family;
      refresh = { token: created.token, expiresAt: created.record.expiresAt };
    }
    const signed = await this.#sign(tenant, scopes, graphs, ttlSec, device, family, at, request.audience);
    await this.#deps.state.audit.record({ event: 'token_issued', tenant, ...(device === undefined ? {} : { device }), jti: signed.jti, actor: request.actor, detail: `${grantDetail(scopes, graphs)}${refresh ? ', with a refresh token' : ''}` });
    return {
      accessToken: signed.token,
      jti: signed.jti,
      tenant,
      device,
      scopes,
      ...(graphs === undefined ? {} : { graphs }),
      expiresIn: ttlSec,
      expiresAt: signed.expiresAt,
      ...(refresh === undefined ? {} : { refreshToken: refresh.token, refreshExpiresAt: refresh.expiresAt }),
    };
  }

  /**
   * RFC 6749 §6: spends a refresh token for a new access token and a new refresh
   * token in the same family. Every check that can refuse runs before the token is
   * spent, so a refused exchange can be retried; only a refresh token presented
   * again after it was spent is a reuse, which ends its family (whoever presents it).
   * A token bound to an OAuth client is refused to anyone else.
   */
  async refresh(refreshToken: string, requestedScope: string | undefined, actor: string, presenter: RefreshPresenter): Promise<IssuedTokens> {
    const { state } = this.#deps;
    const found = await state.refresh.peek(refreshToken);
    if (found === undefined || found.record.expiresAt * 1000 <= this.#now()) throw unknownRefreshToken();
    const { record } = found;
    if (found.used) return this.#reused(record, actor);
    assertPresentedByHolder(record, presenter);
    const scopes = await this.#refreshedScopes(record, requestedScope);

    const spent = await state.refresh.consume(refreshToken);
    if (spent.status === 'unknown') throw unknownRefreshToken();
    if (spent.status === 'reused') return this.#reused(record, actor);

    const device = record.device;
    const who = { tenant: record.tenant, ...(device === undefined ? {} : { device }) };
    // Issued now, never moved past a cut-off as `issue` does: a cut-off set meanwhile covers what this exchange issues.
    const at = this.#now();
    // A refresh keeps the family's graph patterns: a refreshed token must never cover more graphs than the first.
    const graphs = record.graphs;
    const next = await state.refresh.create({ ...who, scopes: record.scopes, graphs, audience: record.audience, client: record.client, ttlSec: this.#deps.auth.refreshTokenTtlSec, issuedAt: Math.floor(at / 1000), family: record.family });
    const ttlSec = this.#deps.auth.accessTokenTtlSec;
    const signed = await this.#sign(record.tenant, scopes, graphs, ttlSec, device, record.family, at, record.audience);
    // A device or tenant revoked while this exchange ran: the new tokens are in the family by now, so ending it ends them.
    const revoked = revocationReason({ ...who, issuedAt: record.issuedAt }, await state.ledger.revocationState(who));
    if (revoked !== undefined) {
      await state.refresh.revokeFamily(record.family, 'revoked during a refresh');
      throw grantRefused(`The refresh token was ${revoked}. Ask the operator for a new token.`);
    }
    await state.audit.record({ event: 'token_issued', ...who, jti: signed.jti, actor, detail: `refresh ${grantDetail(scopes, graphs)}` });
    return {
      accessToken: signed.token,
      jti: signed.jti,
      tenant: record.tenant,
      device,
      scopes,
      ...(graphs === undefined ? {} : { graphs }),
      expiresIn: ttlSec,
      expiresAt: signed.expiresAt,
      refreshToken: next.token,
      refreshExpiresAt: next.record.expiresAt,
    };
  }

  /** A spent refresh token came back: its family ends. Always throws. */
  async #reused(record: RefreshRecord, actor: string): Promise<never> {
    const { state } = this.#deps;
    const device = record.device;
    const revoked = await state.refresh.revokeFamily(record.family, 'refresh token reused');
    await state.audit.record({ event: 'refresh_reuse', tenant: record.tenant, ...(device === undefined ? {} : { device }), actor, detail: `family=${record.family} revoked_access_tokens=${revoked}` });
    throw grantRefused(`This refresh token was already used once. As a precaution every token of this device${device === undefined ? '' : ` ("${device}")`} was revoked; ask the operator for a new token.`);
  }

  /**
   * Every refusal of an exchange that does not spend the token (revoked family,
   * device or tenant; tenant that may not hold tokens; a scope it does not grant),
   * or the scopes the new access token gets.
   */
  async #refreshedScopes(record: RefreshRecord, requestedScope: string | undefined): Promise<Scope[]> {
    const { state } = this.#deps;
    const who = { tenant: record.tenant, ...(record.device === undefined ? {} : { device: record.device }) };
    const [family, revocation] = await Promise.all([state.refresh.family(record.family), state.ledger.revocationState(who)]);
    if (family?.revokedAt !== undefined) throw grantRefused('The refresh token was revoked. Ask the operator for a new token.');
    const revoked = revocationReason({ ...who, issuedAt: record.issuedAt }, revocation);
    if (revoked !== undefined) throw grantRefused(`The refresh token was ${revoked}. Ask the operator for a new token.`);
    try {
      await this.#assertTenantMayHold(record.tenant);
    } catch (error) {
      throw grantRefused(error instanceof GatewayError ? error.message : 'The tenant may not hold tokens.');
    }

    const scopes = record.scopes.filter(isScope);
    if (requestedScope === undefined || requestedScope.trim() === '') return scopes;
    const asked = requestedScope.split(/\s+/).filter((w) => w !== '');
    const extra = asked.filter((s) => !scopes.includes(s as Scope));
    if (extra.length > 0) throw grantRefused(`The refresh token does not grant ${extra.map((s) => JSON.stringify(s.slice(0, 40))).join(', ')}; it grants: ${scopes.join(' ')}.`, 'invalid_scope');
    return scopes.filter((s) => asked.includes(s));
  }
}

/**
 * A refresh token bound to an OAuth client is refreshed by that client only (OAuth 2.1
 * §4.3.1, RFC 9700 §4.14.2), and only at the provider's token endpoint. The refusal
 * leaves the token and its family as they were: a public client's client_id is not a
 * proof of who sends it, so a wrong one is a mistake as often as a theft, and a thief
 * who names the right client is caught by reuse detection instead. Tokens with no
 * client (CLI-issued, or issued before clients were kept) are refreshed as before.
 */
function assertPresentedByHolder(record: RefreshRecord, presenter: RefreshPresenter): void {
  if (record.client === undefined || presenter === 'operator') return;
  if (presenter === 'token-endpoint') {
    throw grantRefused('This refresh token was issued to an OAuth client, which refreshes it at the token endpoint named in the authorization server metadata (/.well-known/oauth-authorization-server: /oauth/exchange), with its own client_id; /oauth/token refreshes CLI-issued tokens only.');
  }
  if (presenter.client !== record.client) {
    throw grantRefused('This refresh token belongs to another OAuth client; a client may refresh only the tokens it was given. Sign in again from this app to get tokens of its own.');
  }
}

/** What a token grants, as the audit event's detail says it (issue and refresh alike). */
function grantDetail(scopes: readonly Scope[], graphs: readonly string[] | undefined): string {
  return `scopes=${scopes.join(' ')}${graphs === undefined ? '' : ` graphs=${graphs.join(',')}`}`;
}
