// The authorization server's paths on the main listener: RFC 8414 metadata,
// the provider's endpoints under /oauth/, and the sign-in pages. Each request
// is counted against its address first (TOKEN_REQUESTS_PER_MINUTE), like /oauth/token.

import type { IncomingMessage, ServerResponse } from 'node:http';
import { RateLimiterMemory, RateLimiterRes } from 'rate-limiter-flexible';
import { isGatewayError } from '../errors.js';
import type { Interactions } from '../oauth/interaction.js';
import { INTERACTION_PATH, OAUTH_ROUTES, type OAuthServer } from '../oauth/provider.js';
import { UPSTREAM_CALLBACK_PATH } from '../oauth/upstream.js';
import { readTextBody } from './body.js';
import { sendJson } from './respond.js';

const MAX_FORM_BYTES = 16 * 1024;

export interface OAuthEndpoints {
  server: OAuthServer;
  interactions: Interactions;
  /** Client registrations per address (REGISTRATIONS_PER_HOUR). */
  registrations: RateLimiterMemory;
}

/**
 * Dynamic registrations one client address may make in an hour, on one instance: a host
 * registers once per device, and every registration is a record kept in the shared state.
 */
export const REGISTRATIONS_PER_HOUR = 60;

export function registrationLimiter(): RateLimiterMemory {
  return new RateLimiterMemory({ points: REGISTRATIONS_PER_HOUR, duration: 3600 });
}

const PROVIDER_PATHS = new Set<string>(Object.values(OAUTH_ROUTES));

/** Whether `path` belongs to the authorization server. */
export function isOAuthPath(path: string): boolean {
  return (
    path === '/.well-known/oauth-authorization-server' ||
    path === '/.well-known/openid-configuration' ||
    PROVIDER_PATHS.has(path) ||
    path === UPSTREAM_CALLBACK_PATH ||
    path.startsWith(`${OAUTH_ROUTES.authorization}/`) ||
    path.startsWith(`${INTERACTION_PATH}/`)
  );
}

async function readForm(req: IncomingMessage, res: ServerResponse): Promise<URLSearchParams | undefined> {
  if (req.method !== 'POST') return undefined;
  const type = (req.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase();
  if (type !== 'application/x-www-form-urlencoded') return new URLSearchParams();
  try {
    return new URLSearchParams(await readTextBody(req, MAX_FORM_BYTES));
  } catch (error) {
    if (isGatewayError(error) && error.code === 'BODY_TOO_LARGE') {
      sendJson(res, 413, { error: 'invalid_request', error_description: `The form is larger than ${MAX_FORM_BYTES} bytes.` });
      return undefined;
    }
    throw error;
  }
}

export async function serveOAuth(endpoints: OAuthEndpoints, req: IncomingMessage, res: ServerResponse, path: string, clientIp: string | undefined): Promise<void> {
  if (path.startsWith(`${INTERACTION_PATH}/`)) {
    const form = await readForm(req, res);
    if (res.writableEnded) return;
    return endpoints.interactions.handle(req, res, path, form, clientIp);
  }
  if (path === UPSTREAM_CALLBACK_PATH) return endpoints.interactions.upstreamCallback(req, res);
  if (path === OAUTH_ROUTES.registration && req.method === 'POST') {
    try {
      await endpoints.registrations.consume(clientIp ?? 'unknown');
    } catch (error) {
      const retry = error instanceof RateLimiterRes ? Math.ceil(error.msBeforeNext / 1000) : 3600;
      return sendJson(res, 429, { error: 'invalid_request', error_description: `This address registered ${REGISTRATIONS_PER_HOUR} clients in the last hour, the most it may; try again in ${retry} s.` }, { 'Retry-After': String(retry) });
    }
  }
  // The provider answers its metadata at /.well-known/openid-configuration; RFC 8414 clients ask for the other name.
  if (path === '/.well-known/oauth-authorization-server') req.url = `/.well-known/openid-configuration${(req.url ?? '').slice(path.length)}`;
  await endpoints.server.provider.callback()(req, res);
}
