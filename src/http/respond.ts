// The one place a GatewayError becomes an HTTP response: status, the
// WWW-Authenticate challenge for 401/403, and a JSON body that never holds a token.

import type { ServerResponse } from 'node:http';
import { TLSSocket } from 'node:tls';
import { type GatewayError, tenantFacingMessage } from '../errors.js';
import { PRODUCT_ID } from '../product.js';

// The gateway serves JSON and event streams only, never a page: nothing may be
// framed, run, embedded by another site or cached (responses carry tenant data).
const SECURITY_HEADERS: Record<string, string> = {
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
  'Cache-Control': 'no-store',
  'X-Frame-Options': 'DENY',
  'Content-Security-Policy': "default-src 'none'; frame-ancestors 'none'",
  'Cross-Origin-Resource-Policy': 'same-origin',
};

export function setSecurityHeaders(res: ServerResponse): void {
  for (const [name, value] of Object.entries(SECURITY_HEADERS)) res.setHeader(name, value);
  // Browsers ignore HSTS over plain HTTP; behind a TLS-terminating proxy, the proxy sets it.
  if (res.req.socket instanceof TLSSocket) res.setHeader('Strict-Transport-Security', 'max-age=31536000');
}

export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  if (res.headersSent) {
    res.end();
    return;
  }
  const text = JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': Buffer.byteLength(text), ...headers });
  res.end(text);
}

function quoted(value: string): string {
  return `"${value.replace(/["\\]/g, "'")}"`;
}

/** RFC 6750 challenge; `resourceMetadata` is the RFC 9728 metadata URL. */
export function bearerChallenge(error: GatewayError, resourceMetadata: string): string {
  const parts = [`Bearer realm="${PRODUCT_ID}"`];
  if (error.code === 'SCOPE_MISSING') {
    parts.push('error="insufficient_scope"', `scope=${quoted(error.details.scope ?? 'read')}`);
  } else if (error.code !== 'TOKEN_MISSING') {
    // RFC 6750 §3.1: no error code when the request carried no credentials at all.
    parts.push('error="invalid_token"');
  }
  parts.push(`error_description=${quoted(error.message)}`, `resource_metadata=${quoted(resourceMetadata)}`);
  return parts.join(', ');
}

export function sendError(res: ServerResponse, error: GatewayError, resourceMetadata: string, extraHeaders: Record<string, string> = {}): void {
  const status = error.httpStatus;
  const headers: Record<string, string> = { ...extraHeaders };
  if (status === 401 || error.code === 'SCOPE_MISSING') headers['WWW-Authenticate'] = bearerChallenge(error, resourceMetadata);
  // RATE_LIMITED and TOO_MANY_QUERIES say when to come back.
  if (error.details.retryAfterSec !== undefined) headers['Retry-After'] = error.details.retryAfterSec;
  const oauthError = status === 401 ? 'invalid_token' : error.code === 'SCOPE_MISSING' ? 'insufficient_scope' : undefined;
  sendJson(res, status, { error: oauthError ?? error.code.toLowerCase(), code: error.code, message: tenantFacingMessage(error) }, headers);
}
