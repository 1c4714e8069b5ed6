// CPU time of processes, read around each timed window: a figure per call that
// the machine's other load disturbs far less than latency or throughput.

import { readFileSync } from 'node:fs';

/** Linux reports utime and stime in clock ticks, 100 per second on every common kernel config. */
const TICKS_PER_SEC = 100;

/** CPU time (user + system) a process has used, in ms; NaN when it cannot be read. */
export function processCpuMs(pid: number | undefined): number {
  if (pid === undefined) return NaN;
  if (pid === process.pid) {
    const { user, system } = process.cpuUsage();
    return (user + system) / 1000;
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name may hold spaces; fields after it are fixed.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / TICKS_PER_SEC;
  } catch {
    return NaN;
  }
}

/** Resident set size of a process, in bytes; NaN when it cannot be read. */
export function processRssBytes(pid: number): number {
  if (pid === process.pid) return process.memoryUsage().rss;
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = /^VmRSS:\s+(\d+) kB/m.exec(status)?.[1];
    return kb === undefined ? NaN : Number(kb) * 1024;
  } catch {
    return NaN;
  }
}

/** CPU ms of several processes between two moments. */
export class CpuMeter {
  readonly #pids: Record<string, number | undefined>;
  #start: Record<string, number> = {};
  #delta: Record<string, number> = {};

  constructor(pids: Record<string, number | undefined>) {
    this.#pids = pids;
  }

  mark(edge: 'start' | 'end'): void {
    const now = Object.fromEntries(Object.entries(this.#pids).map(([name, pid]) => [name, processCpuMs(pid)]));
    if (edge === 'start') this.#start = now;
    else this.#delta = Object.fromEntries(Object.entries(now).map(([name, ms]) => [name, ms - (this.#start[name] ?? NaN)]));
  }

  deltaMs(name: string): number {
    return this.#delta[name] ?? NaN;
  }
}
