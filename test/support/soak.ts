// What the soak test needs besides its workload: the gateway as a process of its
// own (so its memory is its own, not the test's), memory readings of processes
// from /proc, latency percentiles, and a scan of everything the database keeps.

import { spawn, type ChildProcess } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { freeLoopbackPort } from './ports.js';
import { CLI_ENTRY, REPO_ROOT } from './mcp.js';

/** The soak's load time, in seconds: SOAK_SECONDS when set (opt-in long runs), else the CI size. */
export function soakSeconds(env: NodeJS.ProcessEnv, ciDefault: number): number {
  const raw = env['SOAK_SECONDS'];
  if (raw === undefined || raw.trim() === '') return ciDefault;
  const seconds = Number(raw);
  if (!Number.isInteger(seconds) || seconds < 5) throw new Error(`SOAK_SECONDS must be a whole number of seconds, at least 5 (got "${raw}")`);
  return seconds;
}

export interface ServeProcess {
  url: string;
  pid: number;
  /** The last of what the process wrote to stdout and stderr. */
  output(): string;
  /** SIGTERM, then the exit code (SIGKILL after `graceMs`, and then null). */
  stop(graceMs?: number): Promise<number | null>;
}

const OUTPUT_KEPT = 20_000;

/** `serve` as a child process on `env` (PORT chosen here), ready (/readyz 200) when this resolves. */
export async function startServeProcess(env: Record<string, string>): Promise<ServeProcess> {
  const port = await freeLoopbackPort();
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', CLI_ENTRY, 'serve'], {
    cwd: REPO_ROOT,
    env: { PATH: process.env.PATH ?? '', PORT: String(port), METRICS_PORT: 'off', LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const keep = (d: Buffer): void => {
    output = (output + d.toString()).slice(-OUTPUT_KEPT);
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  // A test that dies half-way must not leave the gateway behind.
  const killOnExit = (): void => void child.kill('SIGKILL');
  process.once('exit', killOnExit);
  const url = `http://127.0.0.1:${port}`;
  const stop = async (graceMs = 30_000): Promise<number | null> => {
    process.removeListener('exit', killOnExit);
    if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    const code = await exited;
    clearTimeout(timer);
    return code;
  };
  for (let i = 0; i < 600 && child.exitCode === null; i++) {
    const ready = await fetch(`${url}/readyz`).catch(() => undefined);
    await ready?.body?.cancel();
    if (ready?.status === 200) return { url, pid: child.pid!, output: () => output, stop };
    await sleep(100);
  }
  await stop(1000);
  throw new Error(`serve did not get ready: ${output}`);
}

export interface ProcessMemory {
  /** Resident set size now (VmRSS), in bytes. */
  rss: number;
  /** Peak resident set size over the process's life (VmHWM), in bytes. */
  peak: number;
}

/** The memory of a running process, from /proc/<pid>/status (Linux). */
export async function processMemory(pid: number): Promise<ProcessMemory> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const kib = (field: string): number => {
    const match = new RegExp(`^${field}:\\s+(\\d+) kB$`, 'm').exec(status);
    if (match === null) throw new Error(`/proc/${pid}/status has no ${field}`);
    return Number(match[1]) * 1024;
  };
  return { rss: kib('VmRSS'), peak: kib('VmHWM') };
}

/** Reads the memory of each process every `intervalMs`, keeping the first reading and the highest. */
export class MemoryWatch {
  readonly #pids: Record<string, number>;
  readonly first: Record<string, number> = {};
  readonly highest: Record<string, number> = {};
  #timer: NodeJS.Timeout | undefined;
  #reading: Promise<void> = Promise.resolve();

  constructor(pids: Record<string, number>) {
    this.#pids = pids;
  }

  async start(intervalMs: number): Promise<void> {
    await this.#read();
    this.#timer = setInterval(() => {
      this.#reading = this.#reading.then(() => this.#read());
    }, intervalMs);
  }

  /** Stops reading; returns each process's peak (VmHWM, which also covers moments between readings). */
  async stop(): Promise<Record<string, number>> {
    clearInterval(this.#timer);
    await this.#reading;
    const peaks: Record<string, number> = {};
    for (const [name, pid] of Object.entries(this.#pids)) peaks[name] = Math.max(this.highest[name] ?? 0, (await processMemory(pid)).peak);
    return peaks;
  }

  async #read(): Promise<void> {
    for (const [name, pid] of Object.entries(this.#pids)) {
      const { rss } = await processMemory(pid).catch(() => ({ rss: 0 }));
      this.first[name] ??= rss;
      this.highest[name] = Math.max(this.highest[name] ?? 0, rss);
    }
  }
}

/** The p-th percentile (0-100) of `values` by the nearest-rank method; 0 for none. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

export function megabytes(bytes: number): string {
  return `${(bytes / (1024 * 1024)).toFixed(0)} MB`;
}

/** Counts of labels, e.g. outcomes by error code. */
export class Tally {
  readonly counts = new Map<string, number>();

  add(label: string, n = 1): void {
    this.counts.set(label, (this.counts.get(label) ?? 0) + n);
  }

  get total(): number {
    let sum = 0;
    for (const n of this.counts.values()) sum += n;
    return sum;
  }

  has(label: string): boolean {
    return (this.counts.get(label) ?? 0) > 0;
  }

  toString(): string {
    return [...this.counts].sort(([a], [b]) => a.localeCompare(b)).map(([label, n]) => `${label} ${n}`).join(', ');
  }
}

/** A small deterministic random source (mulberry32), so a run's mix of calls can be repeated from its seed. */
export function randomSource(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
