// The authorization server's paths on the main listener: RFC 8414 metadata,
// the provider's endpoints under /oauth/, and the sign-in pages. Each request
// is counted against its address first (TOKEN_REQUESTS_PER_MINUTE), like /oauth/token.

import type { IncomingMessage, ServerResponse } from 'node:http';
import { isGatewayError } from '../errors.js';
import type { Interactions } from '../oauth/interaction.js';
import { INTERACTION_PATH, OAUTH_ROUTES, type OAuthServer } from '../oauth/provider.js';
import { readTextBody } from './body.js';
import { sendJson } from './respond.js';

const MAX_FORM_BYTES = 16 * 1024;

export interface OAuthEndpoints {
  server: OAuthServer;
  interactions: Interactions;
}

const PROVIDER_PATHS = new Set<string>(Object.values(OAUTH_ROUTES));

/** Whether `path` belongs to the authorization server. */
export function isOAuthPath(path: string): boolean {
  return (
    path === '/.well-known/oauth-authorization-server' ||
    path === '/.well-known/openid-configuration' ||
    PROVIDER_PATHS.has(path) ||
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
  // The provider answers its metadata at /.well-known/openid-configuration; RFC 8414 clients ask for the other name.
  if (path === '/.well-known/oauth-authorization-server') req.url = `/.well-known/openid-configuration${(req.url ?? '').slice(path.length)}`;
  await endpoints.server.provider.callback()(req, res);
}
