// The sign-in an OAuth authorization stops at: the person types the one-time
// enrolment code the operator gave them (or signs in at the operator's OpenID
// provider, whose claims OAUTH_UPSTREAM_TENANTS maps to a tenant), sees what
// it grants (tenant, device, scopes), and allows or denies. Every form carries a token bound to the
// interaction, every code tried counts against the address, and nothing on
// these pages says anything about a tenant the code does not name.

import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { RateLimiterMemory, RateLimiterRes } from 'rate-limiter-flexible';
import { z } from 'zod';
import { enrolmentUsedEvent } from '../auth/enrol.js';
import { assertTenantMayHold } from '../auth/tenant-may-hold.js';
import type { UpstreamOAuthConfig } from '../config/index.js';
import { isGatewayError } from '../errors.js';
import type { AuditFacts } from '../observability/audit.js';
import type { Logger } from '../logger.js';
import type { GatewayState } from '../gateway-state.js';
import { normaliseEnrolmentCode, type EnrolmentRecord } from '../state/enrolments.js';
import { stateKeys } from '../state/keys.js';
import { consentPage, enrolPage, formActionSource, messagePage, PAGE_MESSAGES, type ClientFacts, type ConsentPageInput, type RenderedPage } from './pages.js';
import { INTERACTION_PATH, SIGN_IN_GRANT_TTL_MS, SignInGrantSchema, type OAuthServer, type SignInGrant } from './provider.js';
import { UpstreamRefusal, type UpstreamSignIn } from './upstream.js';
import { matchUpstreamRule, upstreamDeviceName, upstreamUser, type UpstreamClaims } from '../tenancy/upstream-rules.js';

/** The window ENROLMENT_CODE_ATTEMPTS counts in. */
const ATTEMPT_WINDOW_SEC = 600;

export interface InteractionDeps {
  oauth: OAuthServer;
  state: GatewayState;
  logger: Logger;
  /** Codes one client address may try in ten minutes (ENROLMENT_CODE_ATTEMPTS). */
  codeAttempts: number;
  /** TENANTS_REQUIRE_REGISTRATION: a federated sign-in for an unregistered tenant is refused. */
  requireRegistration: boolean;
  /** Sign-in at the operator's OpenID provider, when OAUTH_UPSTREAM_ISSUER is set. */
  upstream?: { signIn: UpstreamSignIn; config: UpstreamOAuthConfig };
}

/** What a sign-in at the OpenID provider grants, kept from its return until the person allows or denies. */
const UpstreamTicketSchema = z.object({
  uid: z.string(),
  grant: SignInGrantSchema.omit({ client: true }),
  /** Who signed in (verified email, else `sub:…`). */
  user: z.string(),
  /** The OAUTH_UPSTREAM_TENANTS rule that matched. */
  rule: z.string(),
});

type UpstreamTicket = z.infer<typeof UpstreamTicketSchema>;

export interface Interactions {
  /** Serves everything under /oauth/interaction/; `form` is the parsed body of a POST. */
  handle(req: IncomingMessage, res: ServerResponse, path: string, form: URLSearchParams | undefined, clientIp: string | undefined): Promise<void>;
  /** Serves /oauth/upstream/callback: back into the interaction the OpenID provider's answer belongs to. */
  upstreamCallback(req: IncomingMessage, res: ServerResponse): Promise<void>;
}

function send(res: ServerResponse, page: RenderedPage): void {
  res.writeHead(page.status, { ...page.headers, 'Content-Length': Buffer.byteLength(page.html) });
  res.end(page.html);
}

/** What the token will hold: the code's scopes, narrowed to those the client asked for when it asked for any. */
export function grantedScopes(granted: readonly string[], requested: string): string[] {
  const asked = requested.split(' ').filter((s) => s !== '');
  return asked.length === 0 ? [...granted] : granted.filter((s) => asked.includes(s));
}

interface Details {
  uid: string;
  /** The `scope` the client asked for. */
  requestedScope: string;
  clientId: string;
  redirectUri: string;
  client: ClientFacts;
}

export function createInteractions(deps: InteractionDeps): Interactions {
  const { provider, resource, formKey } = deps.oauth;
  const attempts = new RateLimiterMemory({ points: deps.codeAttempts, duration: ATTEMPT_WINDOW_SEC });

  const csrfFor = (uid: string) => createHmac('sha256', formKey).update(`interaction ${uid}`).digest('base64url');
  const csrfValid = (uid: string, given: string | null) => {
    const expected = Buffer.from(csrfFor(uid));
    const actual = Buffer.from(given ?? '');
    return actual.length === expected.length && timingSafeEqual(actual, expected);
  };

  /** The interaction the browser's cookie names, or undefined when it is gone or belongs to another uid. */
  async function details(req: IncomingMessage, res: ServerResponse, uid: string): Promise<Details | undefined> {
    let found;
    try {
      found = await provider.interactionDetails(req, res);
    } catch {
      return undefined;
    }
    if (found.uid !== uid) return undefined;
    const clientId = String(found.params['client_id'] ?? '');
    const redirectUri = String(found.params['redirect_uri'] ?? '');
    const client = await provider.Client.find(clientId).catch(() => undefined);
    let redirectHost = '';
    try {
      redirectHost = new URL(redirectUri).host;
    } catch {
      // The provider checked the redirect URI before it started the interaction.
    }
    return { uid, clientId, redirectUri, requestedScope: String(found.params['scope'] ?? ''), client: { name: client?.clientName ?? redirectHost, redirectHost } };
  }

  const action = (uid: string, step: string) => `${INTERACTION_PATH}/${encodeURIComponent(uid)}/${step}`;

  async function showCode(res: ServerResponse, found: Details, error?: string, code?: string): Promise<void> {
    const upstream = deps.upstream === undefined ? {} : { upstream: { name: deps.upstream.signIn.name, href: action(found.uid, 'sign-in') } };
    send(res, enrolPage({ action: action(found.uid, 'code'), csrf: csrfFor(found.uid), client: found.client, ...upstream, ...(error === undefined ? {} : { error }), ...(code === undefined ? {} : { code }) }));
  }

  /** What approval grants, with the form that allows or denies it (whose answer redirects to the client). */
  function showConsent(res: ServerResponse, found: Details, grant: Omit<ConsentPageInput, 'action' | 'csrf' | 'client' | 'formActionOrigins'>): void {
    send(res, consentPage({ ...grant, action: action(found.uid, 'decision'), csrf: csrfFor(found.uid), client: found.client, formActionOrigins: [formActionSource(found.redirectUri)] }));
  }

  /** Counts one code tried from the address; false (and the page sent) when it is over its limit. */
  async function countAttempt(res: ServerResponse, clientIp: string | undefined): Promise<boolean> {
    try {
      await attempts.consume(clientIp ?? 'unknown');
      return true;
    } catch (error) {
      const retry = error instanceof RateLimiterRes ? error.msBeforeNext / 1000 : ATTEMPT_WINDOW_SEC;
      send(res, messagePage({ ...PAGE_MESSAGES.tooManyAttempts, retryAfterSeconds: retry }));
      return false;
    }
  }

  async function submitCode(res: ServerResponse, found: Details, form: URLSearchParams, clientIp: string | undefined): Promise<void> {
    if (!(await countAttempt(res, clientIp))) return;
    const typed = form.get('code') ?? '';
    const code = normaliseEnrolmentCode(typed);
    const record = code === undefined ? undefined : await deps.state.enrolments.peek(code);
    if (code === undefined || record === undefined) {
      return showCode(res, found, 'This code is not valid: it is mistyped, expired, or was already used. Check it, or ask the person who runs the gateway for a new one.', typed.slice(0, 64));
    }
    showConsent(res, found, {
      tenant: record.tenant,
      device: record.device,
      scopes: grantedScopes(record.scopes, found.requestedScope),
      ...(record.graphs === undefined ? {} : { graphs: record.graphs }),
      code,
    });
  }

  /** Stores what the grant holds for the code exchange, records `event`, and finishes the interaction (the browser goes back to the client). */
  async function approve(req: IncomingMessage, res: ServerResponse, found: Details, accountId: string, grantFacts: Omit<SignInGrant, 'client'>, event: AuditFacts): Promise<void> {
    await deps.state.store.setJson(stateKeys.oauthAccount(accountId), { ...grantFacts, client: found.client.name } satisfies SignInGrant, Date.now() + SIGN_IN_GRANT_TTL_MS);
    const grant = new provider.Grant({ accountId, clientId: found.clientId });
    grant.addResourceScope(resource, grantFacts.scopes.join(' '));
    const grantId = await grant.save();
    await deps.state.audit.record(event);
    await provider.interactionFinished(req, res, { login: { accountId, remember: false }, consent: { grantId } }, { mergeWithLastSubmission: false });
  }

  function approveEnrolment(req: IncomingMessage, res: ServerResponse, found: Details, record: EnrolmentRecord, clientIp: string | undefined): Promise<void> {
    const event = enrolmentUsedEvent(record, { actor: `oauth:${found.client.name}`, ...(clientIp === undefined ? {} : { clientIp }), detail: `client=${found.client.redirectHost}` });
    const facts = { tenant: record.tenant, device: record.device, scopes: record.scopes, ...(record.graphs === undefined ? {} : { graphs: record.graphs }) };
    return approve(req, res, found, record.id, facts, event);
  }

  async function approveUpstream(req: IncomingMessage, res: ServerResponse, found: Details, ticketId: string, clientIp: string | undefined): Promise<void> {
    const ticket = await deps.state.store.takeParsed(stateKeys.oauthUpstream('ticket', ticketId), 'upstream sign-in ticket', UpstreamTicketSchema);
    if (ticket === undefined || ticket.uid !== found.uid) return send(res, messagePage(PAGE_MESSAGES.signInExpired));
    const event: AuditFacts = {
      event: 'upstream_sign_in',
      tenant: ticket.grant.tenant,
      device: ticket.grant.device,
      actor: `oauth:${found.client.name}`,
      ...(clientIp === undefined ? {} : { clientIp }),
      detail: `user=${ticket.user} rule="${ticket.rule}" scopes=${ticket.grant.scopes.join(' ')} client=${found.client.redirectHost}`,
    };
    return approve(req, res, found, randomBytes(18).toString('base64url'), ticket.grant, event);
  }

  async function decide(req: IncomingMessage, res: ServerResponse, found: Details, form: URLSearchParams, clientIp: string | undefined): Promise<void> {
    if (form.get('decision') !== 'approve') {
      await provider.interactionFinished(req, res, { error: 'access_denied', error_description: 'The person signing in did not allow the connection.' }, { mergeWithLastSubmission: false });
      return;
    }
    const ticket = form.get('ticket');
    if (ticket !== null && deps.upstream !== undefined) return approveUpstream(req, res, found, ticket, clientIp);
    const code = normaliseEnrolmentCode(form.get('code') ?? '');
    const used = code === undefined ? { status: 'unknown' as const } : await deps.state.enrolments.consume(code);
    if (used.status === 'used') return send(res, messagePage(PAGE_MESSAGES.codeUsed));
    if (used.status !== 'ok') return send(res, messagePage(PAGE_MESSAGES.codeInvalid));
    await approveEnrolment(req, res, found, used.record, clientIp);
  }

  /** The page of an UpstreamRefusal; anything else is thrown on. */
  function sendRefusal(res: ServerResponse, error: unknown): void {
    if (!(error instanceof UpstreamRefusal)) throw error;
    send(res, messagePage({ status: error.status, title: error.title, message: error.message }));
  }

  /** Sends the browser to the OpenID provider. */
  async function startUpstream(res: ServerResponse, found: Details, upstream: UpstreamSignIn): Promise<void> {
    let target: URL;
    try {
      target = await upstream.start(found.uid);
    } catch (error) {
      return sendRefusal(res, error);
    }
    res.writeHead(303, { Location: target.href, 'Cache-Control': 'no-store', 'Content-Length': 0 });
    res.end();
  }

  /** The provider's answer, back in the interaction: verified claims → a rule → the consent page. */
  async function returnFromUpstream(res: ServerResponse, found: Details, query: URLSearchParams, upstream: NonNullable<InteractionDeps['upstream']>): Promise<void> {
    let claims: UpstreamClaims;
    try {
      claims = await upstream.signIn.finish(found.uid, query);
    } catch (error) {
      return sendRefusal(res, error);
    }
    const user = upstreamUser(claims);
    const rule = matchUpstreamRule(upstream.config.rules, claims, upstream.config.groupsClaim);
    if (rule === undefined) {
      deps.logger.info({ user, issuer: upstream.config.issuer }, 'an upstream sign-in matched no OAUTH_UPSTREAM_TENANTS rule');
      return send(res, messagePage({ status: 403, title: 'This account has no access here', message: `You signed in at ${upstream.signIn.name} as ${user}, but this gateway gives that account no access. Ask the person who runs the gateway to add you, or sign in there with another account.` }));
    }
    try {
      await assertTenantMayHold(deps.state.tenants, rule.tenant, deps.requireRegistration);
    } catch (error) {
      if (!isGatewayError(error)) throw error;
      deps.logger.warn({ user, tenant: rule.tenant, code: error.code }, 'an upstream sign-in was refused: its tenant may not hold credentials');
      return send(res, messagePage({ status: 403, title: 'Access is turned off', message: `Your account (${user}) may not connect apps at the moment. Ask the person who runs the gateway.` }));
    }
    const grant = { tenant: rule.tenant, device: upstreamDeviceName(claims, found.client.name), scopes: grantedScopes(rule.scopes, found.requestedScope) as SignInGrant['scopes'] };
    const ticketId = randomBytes(24).toString('base64url');
    await deps.state.store.setJson(stateKeys.oauthUpstream('ticket', ticketId), { uid: found.uid, grant, user, rule: rule.text } satisfies UpstreamTicket, Date.now() + SIGN_IN_GRANT_TTL_MS);
    showConsent(res, found, { ...grant, ticket: ticketId, signedInAs: `${user} at ${upstream.signIn.name}` });
  }

  return {
    async handle(req, res, path, form, clientIp) {
      const match = /^\/oauth\/interaction\/([^/]+)(?:\/(code|decision|sign-in|upstream))?$/.exec(path);
      const uid = match === null ? '' : decodeURIComponent(match[1] ?? '');
      const step = match?.[2];
      const method = req.method ?? 'GET';
      const expected = step === 'code' || step === 'decision' ? 'POST' : 'GET';
      const upstream = deps.upstream;
      if (match === null || method !== expected || ((step === 'sign-in' || step === 'upstream') && upstream === undefined)) {
        return send(res, messagePage({ status: 404, title: 'Nothing here', message: 'Start the sign-in from the app you are connecting.' }));
      }
      const found = await details(req, res, uid);
      if (found === undefined) return send(res, messagePage(PAGE_MESSAGES.signInExpired));
      if (step === undefined) return showCode(res, found);
      if (upstream !== undefined && step === 'sign-in') return startUpstream(res, found, upstream.signIn);
      if (upstream !== undefined && step === 'upstream') return returnFromUpstream(res, found, new URL(req.url ?? '/', 'http://x').searchParams, upstream);
      if (form === undefined || !csrfValid(uid, form.get('csrf'))) {
        return send(res, messagePage({ status: 403, title: 'This form cannot be used', message: 'The form did not come from this sign-in (it is old, or another site sent it). Start again from the app you are connecting.' }));
      }
      if (step === 'code') return submitCode(res, found, form, clientIp);
      return decide(req, res, found, form, clientIp);
    },

    async upstreamCallback(req, res) {
      const back = deps.upstream === undefined || req.method !== 'GET' ? undefined : await deps.upstream.signIn.returnPath(new URL(req.url ?? '/', 'http://x').searchParams);
      if (back === undefined) return send(res, messagePage(PAGE_MESSAGES.signInExpired));
      res.writeHead(303, { Location: back, 'Cache-Control': 'no-store', 'Referrer-Policy': 'no-referrer', 'Content-Length': 0 });
      res.end();
    },
  };
}
