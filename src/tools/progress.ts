// Progress of a long tool call: when the request carried `_meta.progressToken`,
// a heartbeat of notifications/progress while the call runs (the seconds it has
// been running; its total is unknown, since FalkorDB reports nothing until the
// query ends). A call without a token gets none.

import type { ProgressToken } from '@modelcontextprotocol/server';

/** How often a running call says it is still running. */
export const PROGRESS_INTERVAL_MS = 1000;

export interface ProgressNotice {
  method: 'notifications/progress';
  params: { progressToken: ProgressToken; progress: number; message: string };
}

/**
 * Starts the heartbeat of one call; returns the function that stops it. `send`
 * delivers one notification on the call's own stream; a failure to send (the
 * client went away) stops nothing but that beat.
 */
export function startProgress(token: ProgressToken, send: (notice: ProgressNotice) => Promise<void>, intervalMs = PROGRESS_INTERVAL_MS): () => void {
  const started = performance.now();
  let beats = 0;
  const timer = setInterval(() => {
    // `progress` must grow with every notification: the count of beats does, whatever the timer's drift.
    beats += 1;
    const seconds = Math.round((performance.now() - started) / 1000);
    void send({ method: 'notifications/progress', params: { progressToken: token, progress: beats, message: `Still running after ${seconds} s.` } }).catch(() => undefined);
  }, intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}

/** The progress token of a request's `_meta`, when it has a valid one. */
export function progressTokenOf(meta: Record<string, unknown> | undefined): ProgressToken | undefined {
  const token = meta?.['progressToken'];
  return typeof token === 'string' || (typeof token === 'number' && Number.isFinite(token)) ? token : undefined;
}
