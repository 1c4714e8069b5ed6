// `token inspect`: everything the gateway would decide about a token, in plain
// words: whose it is, what it allows, and, if it would be refused, why.

import { decodeJwt, decodeProtectedHeader } from 'jose';
import { isGatewayError } from '../errors.js';
import type { GatewayState } from '../gateway-state.js';
import { looksLikeRefreshToken } from '../state/refresh.js';
import { revocationReason } from '../state/tokens.js';
import type { AccessPolicy } from './access-policy.js';
import type { TokenVerifier } from './verify.js';

export interface TokenInspection {
  kind: 'access' | 'refresh' | 'unknown';
  valid: boolean;
  /** Why not, when not valid. */
  reason?: string | undefined;
  /** The gateway's error code for that reason. */
  code?: string | undefined;
  /** What the token says of itself (checked only when `valid`). */
  claims: {
    tenant?: string | undefined;
    subject?: string | undefined;
    device?: string | undefined;
    scopes?: string | undefined;
    /** The token's `graphs` claim: the graph patterns it is limited to. */
    graphs?: string | undefined;
    jti?: string | undefined;
    issuer?: string | undefined;
    audience?: string | undefined;
    /** Epoch seconds. */
    issuedAt?: number | undefined;
    expiresAt?: number | undefined;
    alg?: string | undefined;
    kid?: string | undefined;
  };
}

function str(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (Array.isArray(value)) return value.filter((v) => typeof v === 'string').join(' ');
  return undefined;
}

function num(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isFinite(value) ? value : undefined;
}

function compact<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}

async function inspectRefreshToken(token: string, state: GatewayState): Promise<TokenInspection> {
  const found = await state.refresh.peek(token);
  if (found === undefined) return { kind: 'refresh', valid: false, code: 'GRANT_INVALID', reason: 'This refresh token is unknown to the gateway, or it has expired.', claims: {} };
  const { record, used } = found;
  const claims = compact({ tenant: record.tenant, device: record.device, scopes: record.scopes.join(' '), graphs: record.graphs?.join(' '), issuedAt: record.issuedAt, expiresAt: record.expiresAt });
  const refuse = (reason: string) => ({ kind: 'refresh' as const, valid: false, code: 'GRANT_INVALID', reason, claims });
  if (used) return refuse('This refresh token was already exchanged for a new one; presenting it again revokes every token of its device.');
  const family = await state.refresh.family(record.family);
  if (family?.revokedAt !== undefined) return refuse(`This refresh token was revoked at ${new Date(family.revokedAt).toISOString()} (${family.revokedReason ?? 'revoked'}).`);
  const who = { tenant: record.tenant, ...(record.device === undefined ? {} : { device: record.device }) };
  const revoked = revocationReason({ ...who, issuedAt: record.issuedAt }, await state.ledger.revocationState(who));
  if (revoked !== undefined) return refuse(`This refresh token was ${revoked}.`);
  const tenant = await state.tenants.get(record.tenant);
  if (tenant?.status === 'disabled') return refuse(`Tenant "${record.tenant}" is disabled.`);
  return { kind: 'refresh', valid: true, claims };
}

export async function inspectToken(token: string, deps: { verifier: TokenVerifier; policy: AccessPolicy; state: GatewayState; tenantClaim: string }): Promise<TokenInspection> {
  if (looksLikeRefreshToken(token)) return inspectRefreshToken(token, deps.state);
  let claims: TokenInspection['claims'];
  try {
    const header = decodeProtectedHeader(token);
    const payload = decodeJwt(token);
    claims = compact({
      tenant: str(payload[deps.tenantClaim]),
      subject: str(payload.sub),
      device: str(payload['device']),
      scopes: str(payload['scope']) ?? str(payload['scp']) ?? str(payload['permissions']),
      graphs: str(payload['graphs']),
      jti: str(payload.jti),
      issuer: str(payload.iss),
      audience: str(payload.aud),
      issuedAt: num(payload.iat),
      expiresAt: num(payload.exp),
      alg: str(header.alg),
      kid: str(header.kid),
    });
  } catch {
    return { kind: 'unknown', valid: false, code: 'TOKEN_MALFORMED', reason: 'This is neither a JWT access token nor a refresh token of this gateway.', claims: {} };
  }
  try {
    const principal = await deps.verifier.verify(token);
    const refused = await deps.policy.refusal(principal);
    if (refused !== undefined) return { kind: 'access', valid: false, code: refused.code, reason: refused.message, claims };
    return { kind: 'access', valid: true, claims: { ...claims, scopes: principal.scopes.join(' '), ...(principal.graphs === undefined ? {} : { graphs: principal.graphs.join(' ') }) } };
  } catch (error) {
    if (!isGatewayError(error)) throw error;
    return { kind: 'access', valid: false, code: error.code, reason: error.message, claims };
  }
}
