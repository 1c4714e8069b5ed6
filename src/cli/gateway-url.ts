// The address MCP clients use to reach the gateway, as `client-config` and
// `device enrol` print it: --url, else PUBLIC_URL, else the listener's own.

import { publicBaseUrl, type Config } from '../config/index.js';
import { GatewayError } from '../errors.js';

/** The base URL clients reach: --url, else PUBLIC_URL, else http://HOST:PORT; trailing /mcp or /sse is dropped. */
export function gatewayBaseUrl(url: string | undefined, config: Config): string {
  const raw = url ?? publicBaseUrl(config);
  const from = url === undefined ? 'PUBLIC_URL (or HOST and PORT)' : '--url';
  let parsed: URL;
  try {
    parsed = new URL(raw);
  } catch {
    throw new GatewayError('REQUEST_INVALID', `${from} gives ${JSON.stringify(raw.slice(0, 100))}, which is not a URL; give the gateway's address, e.g. --url https://gateway.example.com`);
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw new GatewayError('REQUEST_INVALID', `${from} must start with https:// (or http://), e.g. --url https://gateway.example.com`);
  if (parsed.username !== '' || parsed.password !== '' || parsed.search !== '' || parsed.hash !== '') {
    throw new GatewayError('REQUEST_INVALID', `${from} must not carry a user name, password, query or fragment; give the gateway's plain address, e.g. --url https://gateway.example.com`);
  }
  if (parsed.hostname === '0.0.0.0' || parsed.hostname === '[::]') {
    throw new GatewayError('REQUEST_INVALID', `The gateway listens on ${parsed.hostname}, an address clients cannot connect to; pass --url with the address they use (or set PUBLIC_URL).`);
  }
  return `${parsed.origin}${parsed.pathname.replace(/\/+$/, '').replace(/\/(mcp|sse)$/, '')}`;
}
