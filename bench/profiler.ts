// `--profile`: records a V8 CPU profile of this process (the gateway) during each
// timed window only, so start-up and data loading stay out of it.

import { Session } from 'node:inspector/promises';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';

/** Sampling interval in µs: finer than --cpu-prof's default 1000, for short windows. */
const SAMPLING_INTERVAL_US = 250;

export class WindowProfiler {
  readonly #dir: string;
  readonly #session = new Session();
  #started: Promise<unknown> | undefined;

  constructor(dir: string) {
    this.#dir = dir;
    this.#session.connect();
  }

  /** Starts at once; the window's start edge arrives over IPC, so the call must not wait. */
  start(): void {
    this.#started = (async () => {
      await this.#session.post('Profiler.enable');
      await this.#session.post('Profiler.setSamplingInterval', { interval: SAMPLING_INTERVAL_US });
      await this.#session.post('Profiler.start');
    })();
  }

  /** Stops and writes `<dir>/<name>.cpuprofile`; returns its path. */
  async stop(name: string): Promise<string | undefined> {
    if (this.#started === undefined) return undefined;
    await this.#started;
    this.#started = undefined;
    const { profile } = await this.#session.post('Profiler.stop');
    await mkdir(this.#dir, { recursive: true });
    const file = path.join(this.#dir, `${name.replace(/[/=]/g, '_')}.cpuprofile`);
    await writeFile(file, JSON.stringify(profile));
    return file;
  }

  close(): void {
    this.#session.disconnect();
  }
}
