// The sign-in an OAuth authorization stops at: the person types the one-time
// enrolment code the operator gave them, sees what it grants (tenant, device,
// scopes), and allows or denies. Every form carries a token bound to the
// interaction, every code tried counts against the address, and nothing on
// these pages says anything about a tenant the code does not name.

import { createHmac, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { RateLimiterMemory, RateLimiterRes } from 'rate-limiter-flexible';
import { enrolmentUsedEvent } from '../auth/enrol.js';
import type { Logger } from '../observability/logger.js';
import type { GatewayState } from '../state/index.js';
import { normaliseEnrolmentCode, type EnrolmentRecord } from '../state/enrolments.js';
import { stateKeys } from '../state/keys.js';
import { consentPage, enrolPage, formActionSource, messagePage, PAGE_MESSAGES, type ClientFacts, type RenderedPage } from './pages.js';
import { INTERACTION_PATH, SIGN_IN_GRANT_TTL_MS, type OAuthServer, type SignInGrant } from './provider.js';

/** The window ENROLMENT_CODE_ATTEMPTS counts in. */
const ATTEMPT_WINDOW_SEC = 600;

export interface InteractionDeps {
  oauth: OAuthServer;
  state: GatewayState;
  logger: Logger;
  /** Codes one client address may try in ten minutes (ENROLMENT_CODE_ATTEMPTS). */
  codeAttempts: number;
}

export interface Interactions {
  /** Serves everything under /oauth/interaction/; `form` is the parsed body of a POST. */
  handle(req: IncomingMessage, res: ServerResponse, path: string, form: URLSearchParams | undefined, clientIp: string | undefined): Promise<void>;
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
    send(res, enrolPage({ action: action(found.uid, 'code'), csrf: csrfFor(found.uid), client: found.client, ...(error === undefined ? {} : { error }), ...(code === undefined ? {} : { code }) }));
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
    send(
      res,
      consentPage({
        action: action(found.uid, 'decision'),
        csrf: csrfFor(found.uid),
        client: found.client,
        tenant: record.tenant,
        device: record.device,
        scopes: grantedScopes(record.scopes, found.requestedScope),
        ...(record.graphs === undefined ? {} : { graphs: record.graphs }),
        code,
        formActionOrigins: [formActionSource(found.redirectUri)],
      }),
    );
  }

  async function approve(req: IncomingMessage, res: ServerResponse, found: Details, record: EnrolmentRecord, clientIp: string | undefined): Promise<void> {
    const grantFacts: SignInGrant = {
      tenant: record.tenant,
      device: record.device,
      scopes: record.scopes,
      ...(record.graphs === undefined ? {} : { graphs: record.graphs }),
      client: found.client.name,
    };
    await deps.state.store.setJson(stateKeys.oauthAccount(record.id), grantFacts, Date.now() + SIGN_IN_GRANT_TTL_MS);
    const grant = new provider.Grant({ accountId: record.id, clientId: found.clientId });
    grant.addResourceScope(resource, record.scopes.join(' '));
    const grantId = await grant.save();
    await deps.state.audit.record(enrolmentUsedEvent(record, { actor: `oauth:${found.client.name}`, ...(clientIp === undefined ? {} : { clientIp }), detail: `client=${found.client.redirectHost}` }));
    await provider.interactionFinished(req, res, { login: { accountId: record.id, remember: false }, consent: { grantId } }, { mergeWithLastSubmission: false });
  }

  async function decide(req: IncomingMessage, res: ServerResponse, found: Details, form: URLSearchParams, clientIp: string | undefined): Promise<void> {
    if (form.get('decision') !== 'approve') {
      await provider.interactionFinished(req, res, { error: 'access_denied', error_description: 'The person signing in did not allow the connection.' }, { mergeWithLastSubmission: false });
      return;
    }
    const code = normaliseEnrolmentCode(form.get('code') ?? '');
    const used = code === undefined ? { status: 'unknown' as const } : await deps.state.enrolments.consume(code);
    if (used.status === 'used') return send(res, messagePage(PAGE_MESSAGES.codeUsed));
    if (used.status !== 'ok') return send(res, messagePage(PAGE_MESSAGES.codeInvalid));
    await approve(req, res, found, used.record, clientIp);
  }

  return {
    async handle(req, res, path, form, clientIp) {
      const match = /^\/oauth\/interaction\/([^/]+)(?:\/(code|decision))?$/.exec(path);
      const uid = match === null ? '' : decodeURIComponent(match[1] ?? '');
      const step = match?.[2];
      const method = req.method ?? 'GET';
      if (match === null || (step === undefined ? method !== 'GET' : method !== 'POST')) {
        return send(res, messagePage({ status: 404, title: 'Nothing here', message: 'Start the sign-in from the app you are connecting.' }));
      }
      const found = await details(req, res, uid);
      if (found === undefined) return send(res, messagePage(PAGE_MESSAGES.signInExpired));
      if (step === undefined) return showCode(res, found);
      if (form === undefined || !csrfValid(uid, form.get('csrf'))) {
        return send(res, messagePage({ status: 403, title: 'This form cannot be used', message: 'The form did not come from this sign-in (it is old, or another site sent it). Start again from the app you are connecting.' }));
      }
      if (step === 'code') return submitCode(res, found, form, clientIp);
      return decide(req, res, found, form, clientIp);
    },
  };
}
