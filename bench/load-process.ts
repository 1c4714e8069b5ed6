// The load process: plays every client (direct, gateway, official) so that the
// gateway's process runs only the gateway. Driven over IPC by load-client.ts.

import { runClosedLoop, type Call } from './runner.js';
import type { Job, LoadJob, Reply, RequestJob } from './protocol.js';
import { holdStreams, type HeldStreams } from './streams.js';
import { CLIENT_FACTORIES } from './systems/index.js';
import { requestClient } from './systems/requests.js';
import { WORKLOAD_SPECS } from './workloads.js';

function send(reply: Reply): void {
  process.send?.(reply);
}

async function runLoad(job: LoadJob): Promise<void> {
  const workload = WORKLOAD_SPECS[job.workload];
  const tenantOf = (seq: number) => seq % job.tenants;
  const client = await CLIENT_FACTORIES[job.system]({ job, workload, tenantOf });
  try {
    // One checked call first: a system that answers wrongly is an error, not a fast result.
    const rows = await client.call(0, 0);
    if (rows !== workload.expectedRows && rows !== -1) throw new Error(`${job.system} returned ${rows} rows for ${job.workload}; expected ${workload.expectedRows}`);
    await timedLoop((lane, seq) => client.call(lane, seq).then(() => undefined), job);
  } finally {
    await client.close();
  }
}

/** The closed loop of a job, with the load process's own CPU in the timed window; sends the result. */
async function timedLoop(call: Call, job: LoadJob | RequestJob): Promise<void> {
  const cpuBefore = process.cpuUsage();
  let cpuAtStart = cpuBefore;
  let cpuAtEnd = cpuBefore;
  const result = await runClosedLoop(call, {
    concurrency: job.concurrency,
    warmupMs: job.warmupMs,
    durationMs: job.durationMs,
    ...(job.kind === 'load' && job.maxCalls !== undefined ? { maxCalls: job.maxCalls } : {}),
    onWindow: (edge) => {
      if (edge === 'start') cpuAtStart = process.cpuUsage();
      else cpuAtEnd = process.cpuUsage();
      send({ kind: 'window', edge });
    },
  });
  const clientCpuMs = (cpuAtEnd.user - cpuAtStart.user + cpuAtEnd.system - cpuAtStart.system) / 1000;
  send({ kind: 'result', result, clientCpuMs });
}

async function runRequests(job: RequestJob): Promise<void> {
  const client = await requestClient(job);
  try {
    // One checked request first: a wrong answer is an error, not a fast result.
    await client.call(0, 0);
    await timedLoop((lane, seq) => client.call(lane, seq), job);
  } finally {
    client.close();
  }
}

let held: HeldStreams | undefined;

async function handle(job: Job): Promise<void> {
  switch (job.kind) {
    case 'load':
      return runLoad(job);
    case 'request':
      return runRequests(job);
    case 'hold':
      held?.close();
      held = await holdStreams(job.target, job.count, job.endpoints);
      return send({ kind: 'held', opened: held.opened, failed: held.failed, ...(held.firstError === undefined ? {} : { firstError: held.firstError }) });
    case 'release':
      held?.close();
      held = undefined;
      return send({ kind: 'released' });
    case 'exit':
      held?.close();
      process.disconnect();
      return;
  }
}

process.on('message', (job: Job) => {
  handle(job).catch((error: unknown) => send({ kind: 'error', message: error instanceof Error ? error.stack ?? error.message : String(error) }));
});
