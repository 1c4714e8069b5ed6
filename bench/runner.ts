// Closed-loop load: `concurrency` lanes each call back to back; calls started
// after the warm-up and before the end are timed.

import { Samples, summarize, type LatencyStats } from './stats.js';

export interface LoadOptions {
  concurrency: number;
  warmupMs: number;
  durationMs: number;
  /** Stop once this many calls have been started (for unmeasured passes over every tenant). */
  maxCalls?: number;
  /** Told when the timed window opens and closes (the orchestrator samples CPU then). */
  onWindow?: (edge: 'start' | 'end') => void;
}

export type Call = (lane: number, seq: number) => Promise<void>;

export interface LoadResult extends LatencyStats {
  /** The first few distinct error messages, to say what went wrong. */
  errorSamples: string[];
}

export async function runClosedLoop(call: Call, options: LoadOptions): Promise<LoadResult> {
  const { concurrency, warmupMs, durationMs } = options;
  const maxCalls = options.maxCalls ?? Infinity;
  const samples = new Samples();
  const errorSamples = new Set<string>();
  let errors = 0;
  let seq = 0;
  const start = performance.now();
  const windowStart = start + warmupMs;
  const windowEnd = windowStart + durationMs;
  let opened = false;
  let lastEnd = windowStart;
  const openWindow = () => {
    if (opened) return;
    opened = true;
    options.onWindow?.('start');
  };
  const timer = setTimeout(openWindow, warmupMs);

  const lane = async (id: number): Promise<void> => {
    for (;;) {
      const began = performance.now();
      if (began >= windowEnd || seq >= maxCalls) return;
      const n = seq++;
      let failed = false;
      try {
        await call(id, n);
      } catch (error) {
        failed = true;
        if (errorSamples.size < 5) errorSamples.add(error instanceof Error ? error.message.slice(0, 300) : String(error));
      }
      const ended = performance.now();
      if (began >= windowStart) {
        if (failed) errors++;
        else samples.push(ended - began);
        if (ended > lastEnd) lastEnd = ended;
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, (_, i) => lane(i)));
  clearTimeout(timer);
  openWindow();
  options.onWindow?.('end');
  return { ...summarize(samples.values(), errors, lastEnd - windowStart), errorSamples: [...errorSamples] };
}
