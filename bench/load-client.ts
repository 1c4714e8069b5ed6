// The orchestrator's handle on the load process: one job at a time over IPC.

import { fork, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import type { HoldJob, Job, LoadJob, Reply, RequestJob } from './protocol.js';
import type { LoadResult } from './runner.js';
import { endChild } from './systems/child.js';

const REPO_ROOT = path.resolve(import.meta.dirname, '..');

type Waiter = { accept: (reply: Reply) => boolean; resolve: (reply: Reply) => void; reject: (error: Error) => void };

export class LoadProcess {
  readonly #child: ChildProcess;
  #waiter: Waiter | undefined;
  #onWindow: ((edge: 'start' | 'end') => void) | undefined;

  constructor() {
    // Not the parent's execArgv: a --cpu-prof on the orchestrator must profile the gateway only.
    // The MCP SDK client's transport passes one AbortSignal to every fetch, and fetch drops its
    // listener on it only when the request is garbage collected: at thousands of calls a second
    // they pile up past the limit fetch sets (1500) and Node warns on every call. Client side only.
    this.#child = fork(path.join(REPO_ROOT, 'bench', 'load-process.ts'), [], {
      cwd: REPO_ROOT,
      execArgv: ['--disable-warning=MaxListenersExceededWarning', '--import', 'tsx'],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    this.#child.on('message', (reply: Reply) => this.#receive(reply));
    this.#child.on('exit', (code, signal) => this.#waiter?.reject(new Error(`the load process exited (${signal ?? `code ${code}`})`)));
  }

  get pid(): number | undefined {
    return this.#child.pid;
  }

  async run(job: LoadJob | RequestJob, onWindow: (edge: 'start' | 'end') => void): Promise<{ result: LoadResult; clientCpuMs: number }> {
    this.#onWindow = onWindow;
    try {
      const reply = await this.#request(job, (r) => r.kind === 'result');
      if (reply.kind !== 'result') throw new Error('unexpected reply');
      return { result: reply.result, clientCpuMs: reply.clientCpuMs };
    } finally {
      this.#onWindow = undefined;
    }
  }

  async hold(job: HoldJob): Promise<{ opened: number; failed: number; firstError?: string }> {
    const reply = await this.#request(job, (r) => r.kind === 'held');
    if (reply.kind !== 'held') throw new Error('unexpected reply');
    return reply;
  }

  async release(): Promise<void> {
    await this.#request({ kind: 'release' }, (r) => r.kind === 'released');
  }

  stop(): Promise<void> {
    return endChild(this.#child, 5_000, () => this.#child.send({ kind: 'exit' } satisfies Job));
  }

  #request(job: Job, accept: (reply: Reply) => boolean): Promise<Reply> {
    if (this.#waiter !== undefined) throw new Error('the load process is busy');
    return new Promise<Reply>((resolve, reject) => {
      this.#waiter = { accept, resolve, reject };
      this.#child.send(job);
    }).finally(() => {
      this.#waiter = undefined;
    });
  }

  #receive(reply: Reply): void {
    if (reply.kind === 'window') return this.#onWindow?.(reply.edge);
    const waiter = this.#waiter;
    if (waiter === undefined) return;
    if (reply.kind === 'error') return waiter.reject(new Error(`load process: ${reply.message}`));
    if (waiter.accept(reply)) waiter.resolve(reply);
  }
}
