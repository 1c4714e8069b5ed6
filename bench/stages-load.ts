// The load side of bench/stages.ts, in its own process: `conc` lanes send one
// request back to back for a warm-up second and a timed window, then report.

import { RawHttpConnection } from './systems/raw-http.js';

export interface StageJob {
  method: 'GET' | 'POST';
  url: string;
  headers: Record<string, string>;
  body: string;
  concurrency: number;
  durationMs: number;
  /** The reply every call must get (an HTTP status, and a text the body must or must not hold). */
  expectStatus: number;
  expectText?: string;
}

export type StageEvent = { edge: 'start' } | { edge: 'end'; calls: number; unexpected: number; sample: string };

const WARMUP_MS = 1000;

process.on('message', (job: StageJob) => {
  void (async () => {
    const lanes = Array.from({ length: job.concurrency }, () => new RawHttpConnection(new URL(job.url)));
    let calls = 0;
    let unexpected = 0;
    let sample = '';
    let stop = false;
    const lane = async (connection: RawHttpConnection) => {
      while (!stop) {
        const reply = job.method === 'GET' ? await connection.request('GET', job.headers) : await connection.post(job.headers, job.body);
        if (reply.status !== job.expectStatus || (job.expectText !== undefined && !reply.text.includes(job.expectText))) {
          unexpected++;
          sample = `HTTP ${reply.status}: ${reply.text.slice(0, 200)}`;
        }
        calls++;
      }
    };
    const running = lanes.map(lane);
    await new Promise((resolve) => setTimeout(resolve, WARMUP_MS));
    const before = calls;
    const unexpectedBefore = unexpected;
    process.send?.({ edge: 'start' } satisfies StageEvent);
    await new Promise((resolve) => setTimeout(resolve, job.durationMs));
    process.send?.({ edge: 'end', calls: calls - before, unexpected: unexpected - unexpectedBefore, sample } satisfies StageEvent);
    stop = true;
    await Promise.all(running);
    for (const connection of lanes) connection.close();
  })();
});
