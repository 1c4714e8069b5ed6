// The process logger (pino, JSON lines). Anything that could hold a token or a
// password is redacted here, so call sites cannot leak one by accident.

import { pino, type Logger } from 'pino';
import { PRODUCT_ID } from './product.js';

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

type FdDestination = ReturnType<typeof pino.destination>;

interface FdLog {
  stream: FdDestination;
  /** Until when a refused write (EAGAIN) is retried; undefined: for ever. Set at exit. */
  retry: { until: number | undefined };
}

const fdLogs = new WeakMap<Logger, FdLog>();

export function createLogger(level: string, destination: NodeJS.WritableStream | number = 1): Logger {
  if (typeof destination !== 'number') return buildLogger(level, destination);
  // A pipe nobody reads answers EAGAIN, which the destination retries without end; at exit (pino
  // flushes synchronously then) that loop would keep the process from ever exiting, SIGTERM or not.
  const retry = { until: undefined as number | undefined };
  const stream = pino.destination({ fd: destination, sync: false, retryEAGAIN: () => retry.until === undefined || Date.now() < retry.until });
  const log: FdLog = { stream, retry };
  const logger = buildLogger(level, stream);
  fdLogs.set(logger, log);
  return logger;
}

/**
 * Writes what the logger still holds, just before process.exit(): all of it if the
 * destination takes it, else what it takes within about `timeoutMs`; the rest is
 * dropped, so exiting never waits on a destination that takes nothing.
 */
export function finishLogging(logger: Logger, timeoutMs: number): void {
  const log = fdLogs.get(logger);
  if (log === undefined) return;
  log.retry.until = Date.now() + timeoutMs;
  // A write refused from now on is reported as an 'error' event; there is nowhere left to report it.
  log.stream.on('error', () => {});
  try {
    log.stream.flushSync();
  } catch {
    // Drops what could not be written, and makes pino's own flush at exit a no-op.
    log.stream.destroy();
  }
}

function buildLogger(level: string, stream: Parameters<typeof pino>[1]): Logger {
  return pino(
    {
      level,
      base: { service: PRODUCT_ID },
      redact: { paths: REDACT_PATHS, censor: '[REDACTED]' },
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    stream,
  );
}
