// Network guards that run before any token work: who is the client (trusting
// X-Forwarded-For only as TRUST_PROXY says), is its address allowed, and is the
// request's Origin (and, on loopback, Host) one this gateway serves.

import type { IncomingMessage } from 'node:http';
import { isIP } from 'node:net';
import { ipMatcher } from '../cidr.js';
import { isLoopbackHost, type Config } from '../config/index.js';
import { GatewayError } from '../errors.js';

export interface NetworkGuard {
  /** The client's address. */
  clientIp(req: IncomingMessage): string | undefined;
  /** Throws IP_FORBIDDEN, ORIGIN_FORBIDDEN or HOST_FORBIDDEN. `path` lets health probes through the address list. */
  admit(req: IncomingMessage, clientIp: string | undefined, path: string): void;
}

/** Load balancers probe these from addresses nobody thinks to allow; they hold no tenant data. */
const PROBE_PATHS = new Set(['/healthz', '/readyz']);

/**
 * One address as a socket or a proxy reports it, in canonical form: `::ffff:1.2.3.4`
 * becomes `1.2.3.4` (dual-stack sockets report IPv4 clients that way), `[::1]` loses its
 * brackets, and a port some proxies append (`1.2.3.4:5678`, `[::1]:5678`) is dropped.
 * Undefined when the text is no address at all.
 */
export function normalizeIp(text: string): string | undefined {
  let address = text.trim();
  const bracketed = /^\[([^\]]+)\](?::\d+)?$/.exec(address);
  if (bracketed) address = bracketed[1]!;
  const v4WithPort = /^(\d+\.\d+\.\d+\.\d+):\d+$/.exec(address);
  if (v4WithPort) address = v4WithPort[1]!;
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (mapped) address = mapped[1]!;
  const version = isIP(address);
  if (version === 0) return undefined;
  return version === 6 ? address.toLowerCase() : address;
}

/**
 * Reads the client address from the socket peer and X-Forwarded-For. The chain is
 * read from the right, starting at the socket peer (hop 0), for as long as the
 * current address is a trusted proxy: with a hop count N the first N addresses are
 * trusted, with CIDR ranges every address inside them. A malformed entry ends the
 * walk at the last address that could be read, so garbage never becomes a client.
 */
export function createClientIpResolver(trustProxy: Config['network']['trustProxy']): (socketAddress: string | undefined, forwardedFor: string | undefined) => string | undefined {
  if (trustProxy === false) return (socketAddress) => (socketAddress === undefined ? undefined : normalizeIp(socketAddress));
  const isTrusted: (ip: string, hop: number) => boolean = typeof trustProxy === 'number' ? (_ip, hop) => hop < trustProxy : ipMatcher(trustProxy);
  return (socketAddress, forwardedFor) => {
    let client = socketAddress === undefined ? undefined : normalizeIp(socketAddress);
    if (client === undefined || forwardedFor === undefined) return client;
    const chain = forwardedFor.split(',');
    for (let hop = 0; isTrusted(client, hop); hop++) {
      const next = chain.pop();
      const ip = next === undefined ? undefined : normalizeIp(next);
      if (ip === undefined) break;
      client = ip;
    }
    return client;
  };
}

/** `scheme://host[:port]` lower-cased with the default port dropped; undefined for `null` or anything else unparsable. */
function canonicalOrigin(text: string): string | undefined {
  try {
    const url = new URL(text);
    return url.protocol === 'http:' || url.protocol === 'https:' ? url.origin : undefined;
  } catch {
    return undefined;
  }
}

/** The host part of a Host header (`localhost:3003` → `localhost`, `[::1]:3003` → `[::1]`), lower-cased; undefined if malformed. */
function hostPart(header: string): string | undefined {
  return /^(\[[0-9a-f:.]+\]|[^:[\]]+)(?::\d*)?$/.exec(header.trim().toLowerCase())?.[1];
}

function isLoopbackHostHeader(host: string): boolean {
  return host === 'localhost' || host === '[::1]' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}

/** Quoted and cut short: header values are the caller's text, not ours. */
function shown(value: string): string {
  return JSON.stringify(value.slice(0, 100));
}

export function createNetworkGuard(config: Config, baseUrl: () => string): NetworkGuard {
  const { allowedIps, trustProxy, allowedOrigins } = config.network;
  const resolveClientIp = createClientIpResolver(trustProxy);
  const allowed = allowedIps.length === 0 ? undefined : ipMatcher(allowedIps);
  const extraOrigins = new Set(allowedOrigins.map(canonicalOrigin).filter((o): o is string => o !== undefined));
  // Bound to loopback, only this machine connects, but a web page it visits can
  // point its own DNS name at 127.0.0.1 (DNS rebinding); the Host header gives that away.
  // With PUBLIC_URL set, the operator has said which other names reach the gateway.
  const checkHost = isLoopbackHost(config.http.host) && config.http.publicUrl === undefined;

  const checkAddress = (clientIp: string | undefined, path: string) => {
    if (allowed === undefined || PROBE_PATHS.has(path)) return;
    if (clientIp !== undefined && allowed(clientIp)) return;
    const who = clientIp === undefined ? 'The client address could not be determined, so it' : `Address ${clientIp}`;
    throw new GatewayError('IP_FORBIDDEN', `${who} is not allowed to use this gateway. Ask the operator to add it to ALLOWED_IPS.`, clientIp === undefined ? {} : { clientIp });
  };

  const checkOrigin = (req: IncomingMessage) => {
    const origin = req.headers.origin;
    // No Origin: not a browser (MCP clients, curl), and so not a cross-site request.
    if (origin === undefined) return;
    const canonical = canonicalOrigin(origin);
    if (canonical !== undefined && (canonical === canonicalOrigin(baseUrl()) || extraOrigins.has(canonical))) return;
    throw new GatewayError(
      'ORIGIN_FORBIDDEN',
      `Requests from web origin ${shown(origin)} are not allowed. If a browser-based MCP client there should reach this gateway, ask the operator to add the origin to ALLOWED_ORIGINS.`,
    );
  };

  const checkHostHeader = (req: IncomingMessage) => {
    const header = req.headers.host;
    // HTTP/1.0 may omit Host; browsers, the only DNS-rebinding vehicle, always send it.
    if (!checkHost || header === undefined) return;
    const host = hostPart(header);
    if (host !== undefined && isLoopbackHostHeader(host)) return;
    throw new GatewayError(
      'HOST_FORBIDDEN',
      `Host ${shown(header)} is not an address of this loopback-only gateway: it answers only to localhost, 127.0.0.1 or [::1], so that web pages cannot reach it by DNS rebinding. If clients reach it under another name (a tunnel or proxy), set PUBLIC_URL to that URL.`,
    );
  };

  return {
    clientIp: (req) => {
      const forwarded = req.headers['x-forwarded-for'];
      return resolveClientIp(req.socket.remoteAddress, Array.isArray(forwarded) ? forwarded.join(',') : forwarded);
    },
    admit: (req, clientIp, path) => {
      checkAddress(clientIp, path);
      checkOrigin(req);
      checkHostHeader(req);
    },
  };
}
