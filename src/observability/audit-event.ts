// What an audit event is, and how a tool call or a refused request becomes one.
// Events name tenants, devices and jtis; never a token, never parameter values.

import { createHash } from 'node:crypto';
import type { Principal } from '../tenancy/principal.js';
import type { ErrorCode, GatewayError } from '../errors.js';
import type { ToolCallRecord } from './tool-call.js';

export const AUDIT_EVENT_NAMES = [
  'auth_failure',
  'query_success',
  'query_error',
  'query_cancelled',
  'denied',
  'rate_limited',
  'token_issued',
  'token_revoked',
  'refresh_reuse',
  'enrolment_created',
  'enrolment_used',
  'upstream_sign_in',
  'tenant_changed',
  'refusals_summarised',
] as const;

export type AuditEventName = (typeof AUDIT_EVENT_NAMES)[number];

export interface AuditEvent {
  /** ISO 8601, milliseconds. */
  time: string;
  event: AuditEventName;
  /** Only from a verified token (or the operator's command); unknown for an auth_failure. */
  tenant?: string;
  device?: string;
  jti?: string;
  /** The token's subject, when it is not the tenant itself (e.g. a user of an identity provider). */
  subject?: string;
  clientIp?: string;
  /** Request path of a refused request. */
  path?: string;
  tool?: string;
  graph?: string;
  /** SHA-256 of the query text, hex: lets an operator match queries without storing them. */
  querySha256?: string;
  /** The query text itself, only with AUDIT_QUERY_TEXT=true. */
  query?: string;
  durationMs?: number;
  rowCount?: number;
  errorCode?: string;
  /** How many refusals a `refusals_summarised` event stands for. */
  count?: number;
  /** Who acted, for operator events: `cli`, `oauth`, `serve`. */
  actor?: string;
  /** Free text for operator events, e.g. `scopes=read write` or `disabled`. */
  detail?: string;
  /** The gateway instance (INSTANCE_NAME, else its host name) or CLI host that wrote the event. */
  instance?: string;
}

/** What callers give `AuditTrail.record`; the trail adds the time. */
export type AuditFacts = Omit<AuditEvent, 'time'>;

/** Fields in the order events are written, so every sink shows them alike. */
export const AUDIT_FIELDS = [
  'time', 'event', 'tenant', 'device', 'jti', 'subject', 'clientIp', 'path', 'tool', 'graph',
  'querySha256', 'query', 'durationMs', 'rowCount', 'errorCode', 'count', 'actor', 'detail', 'instance',
] as const satisfies ReadonlyArray<keyof AuditEvent>;

export const NUMERIC_AUDIT_FIELDS: ReadonlySet<string> = new Set(['durationMs', 'rowCount', 'count']);

const DENIAL_CODES: ReadonlySet<ErrorCode> = new Set([
  'SCOPE_MISSING', 'GRAPH_FORBIDDEN', 'IP_FORBIDDEN', 'ORIGIN_FORBIDDEN', 'HOST_FORBIDDEN', 'TENANT_DISABLED', 'TENANT_NOT_REGISTERED', 'SESSION_FORBIDDEN',
  // a dedicated instance (SERVE_TENANTS) refusing another tenant's valid token
  'TENANT_NOT_SERVED',
]);

/** The event a refusal with this code is, or undefined when it is not an audit matter (bad requests, 404s). */
export function refusalEventName(code: ErrorCode): 'auth_failure' | 'denied' | 'rate_limited' | undefined {
  if (code.startsWith('TOKEN_') || code === 'QUERY_TOKEN_DISABLED' || code === 'AUTH_FAILURES_LIMITED') return 'auth_failure';
  if (code === 'RATE_LIMITED' || code === 'TOO_MANY_QUERIES' || code === 'SESSION_LIMIT') return 'rate_limited';
  if (DENIAL_CODES.has(code)) return 'denied';
  return undefined;
}

export function sha256Hex(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

/** Drops undefined fields and puts the rest in AUDIT_FIELDS order. */
export function orderedEvent(event: AuditEvent): AuditEvent {
  const out: Record<string, unknown> = {};
  for (const field of AUDIT_FIELDS) if (event[field] !== undefined) out[field] = event[field];
  return out as unknown as AuditEvent;
}

function who(principal: Principal | undefined): Partial<AuditFacts> {
  if (principal === undefined) return {};
  return {
    tenant: principal.tenant,
    ...(principal.device === undefined ? {} : { device: principal.device }),
    ...(principal.jti === undefined ? {} : { jti: principal.jti }),
    ...(principal.subject === principal.tenant ? {} : { subject: principal.subject }),
  };
}

/** The event name of a finished tool call. */
function toolCallEventName(call: ToolCallRecord): AuditEventName {
  if (call.outcome === 'success') return 'query_success';
  if (call.outcome === 'cancelled') return 'query_cancelled';
  const refusal = call.errorCode === undefined ? undefined : refusalEventName(call.errorCode as ErrorCode);
  return refusal ?? 'query_error';
}

/**
 * One finished tool call, built in AUDIT_FIELDS order in one go (no reordering
 * pass). A call refused for scope or admission is filed as `denied` /
 * `rate_limited` so those events list every refusal, wherever it happened.
 * `querySha256` is the hash of `call.query`, computed by the caller (which caches it).
 */
export function toolCallEvent(time: string, principal: Principal, clientIp: string | undefined, call: ToolCallRecord, querySha256: string | undefined, withQueryText: boolean): AuditEvent {
  const event: AuditEvent = { time, event: toolCallEventName(call), tenant: principal.tenant };
  if (principal.device !== undefined) event.device = principal.device;
  if (principal.jti !== undefined) event.jti = principal.jti;
  if (principal.subject !== principal.tenant) event.subject = principal.subject;
  if (clientIp !== undefined) event.clientIp = clientIp;
  event.tool = call.tool;
  if (call.graph !== undefined) event.graph = call.graph;
  if (querySha256 !== undefined) event.querySha256 = querySha256;
  if (call.query !== undefined && withQueryText) event.query = call.query;
  event.durationMs = call.durationMs;
  if (call.rowCount !== undefined) event.rowCount = call.rowCount;
  if (call.errorCode !== undefined) event.errorCode = call.errorCode;
  return event;
}

export interface RefusalFacts {
  /** Set only once a token was verified; an unverified token's claims never reach the trail. */
  principal: Principal | undefined;
  clientIp: string | undefined;
  path: string;
}

/** A refused request as an event, or undefined when the refusal is not an audit matter. */
export function refusalFacts(error: GatewayError, facts: RefusalFacts): AuditFacts | undefined {
  const event = refusalEventName(error.code);
  if (event === undefined) return undefined;
  return {
    event,
    ...who(facts.principal),
    ...(facts.clientIp === undefined ? {} : { clientIp: facts.clientIp }),
    path: facts.path,
    errorCode: error.code,
  };
}
