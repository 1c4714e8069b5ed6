// POST /oauth/token: the refresh-token grant of RFC 6749 (§6), with its form
// encoding, its JSON answers and its error codes (§5.2). Only offered when the
// gateway signs its own tokens.

import type { IncomingMessage, ServerResponse } from 'node:http';
import type { TokenIssuer } from '../auth/issue.js';
import { isGatewayError } from '../errors.js';
import { readTextBody } from './body.js';
import { sendJson } from './respond.js';

const MAX_FORM_BYTES = 16 * 1024;
const NO_STORE = { 'Cache-Control': 'no-store', Pragma: 'no-cache' };

function oauthError(res: ServerResponse, status: number, error: string, description: string, headers: Record<string, string> = {}): void {
  sendJson(res, status, { error, error_description: description }, { ...NO_STORE, ...headers });
}

export async function handleTokenRequest(req: IncomingMessage, res: ServerResponse, issuer: TokenIssuer): Promise<void> {
  if (req.method !== 'POST') {
    return oauthError(res, 405, 'invalid_request', 'Send the token request with POST.', { Allow: 'POST' });
  }
  const type = (req.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase();
  if (type !== 'application/x-www-form-urlencoded') {
    return oauthError(res, 400, 'invalid_request', 'Send the parameters form-encoded (Content-Type: application/x-www-form-urlencoded).');
  }
  let form: URLSearchParams;
  try {
    form = new URLSearchParams(await readTextBody(req, MAX_FORM_BYTES));
  } catch (error) {
    if (isGatewayError(error) && error.code === 'BODY_TOO_LARGE') return oauthError(res, 413, 'invalid_request', `The request body is larger than ${MAX_FORM_BYTES} bytes.`);
    throw error;
  }
  for (const name of ['grant_type', 'refresh_token', 'scope']) {
    if (form.getAll(name).length > 1) return oauthError(res, 400, 'invalid_request', `The parameter ${name} is given more than once.`);
  }
  const grantType = form.get('grant_type');
  if (grantType === null || grantType === '') return oauthError(res, 400, 'invalid_request', 'The parameter grant_type is missing; this endpoint takes grant_type=refresh_token.');
  if (grantType !== 'refresh_token') {
    return oauthError(res, 400, 'unsupported_grant_type', 'This endpoint only takes grant_type=refresh_token; get a first token from the operator (token issue).');
  }
  const refreshToken = form.get('refresh_token');
  if (refreshToken === null || refreshToken === '') return oauthError(res, 400, 'invalid_request', 'The parameter refresh_token is missing.');

  try {
    const issued = await issuer.refresh(refreshToken, form.get('scope') ?? undefined, 'oauth', 'token-endpoint');
    sendJson(
      res,
      200,
      {
        access_token: issued.accessToken,
        token_type: 'Bearer',
        expires_in: issued.expiresIn,
        refresh_token: issued.refreshToken,
        scope: issued.scopes.join(' '),
      },
      NO_STORE,
    );
  } catch (error) {
    if (isGatewayError(error) && error.code === 'GRANT_INVALID') {
      return oauthError(res, 400, error.details.oauthError ?? 'invalid_grant', error.message);
    }
    throw error;
  }
}
