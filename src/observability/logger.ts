// The process logger (pino, JSON lines). Anything that could hold a token or a
// password is redacted here, so call sites cannot leak one by accident.

import { pino, type Logger } from 'pino';

export type { Logger };

const REDACT_PATHS = [
  'token',
  'password',
  'secret',
  'authorization',
  'sessionId',
  'headers.authorization',
  'req.headers.authorization',
  'req.headers.cookie',
  '*.token',
  '*.password',
  '*.secret',
  '*.sessionId',
];

/**
 * Removes `token=` (and any other credential-looking) query values from a URL
 * for logging. An SSE `sessionId` is one too: with a token it drives a live session.
 */
export function redactUrl(url: string): string {
  return url.replace(/([?&](?:token|access_token|refresh_token|password|sessionid|session_id)=)[^&#]*/gi, '$1[REDACTED]');
}

export function createLogger(level: string, destination: NodeJS.WritableStream | number = 1): Logger {
  const stream = typeof destination === 'number' ? pino.destination({ fd: destination, sync: false }) : destination;
  return pino(
    {
      level,
      base: { service: 'falkordb-mcp-gateway' },
      redact: { paths: REDACT_PATHS, censor: '[REDACTED]' },
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    stream,
  );
}
