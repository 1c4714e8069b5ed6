// The steps that take a running gateway down, last started first, each one
// bounded: a step that does not finish in time is reported and left behind, so
// the ones after it (closing the database, stopping the embedded server) still run.

import type { Logger } from './logger.js';

/** How long a step other than the drain may take before shutdown goes on without it. */
export const SHUTDOWN_STEP_TIMEOUT_MS = 2_000;
/** A step gets at least this long even when the overall budget is spent, so closing the database is always tried. */
const LAST_CHANCE_MS = 250;

interface Step {
  name: string;
  run: () => Promise<void>;
  timeoutMs: number;
}

export class ShutdownSequence {
  readonly #logger: Logger;
  readonly #steps: Step[] = [];
  /** Steps started and not finished (a timed-out one stays here: it may still be holding something). */
  readonly #running = new Set<string>();
  #done: Promise<string[]> | undefined;

  constructor(logger: Logger) {
    this.#logger = logger;
  }

  /** Adds a step; it runs before every step added earlier. */
  add(name: string, run: () => Promise<void>, timeoutMs = SHUTDOWN_STEP_TIMEOUT_MS): void {
    this.#steps.push({ name, run, timeoutMs });
  }

  /**
   * Runs every step once, newest first, all within about `budgetMs`: a step gets
   * its own timeout or what is left of the budget, whichever is less. Resolves
   * with the steps left unfinished (empty when all finished); later calls return
   * the same promise. Never rejects.
   */
  run(budgetMs: number): Promise<string[]> {
    return (this.#done ??= this.#runAll(Date.now() + budgetMs));
  }

  /** Steps started and not finished: what shutdown is waiting for, or left behind. */
  pending(): string[] {
    return [...this.#running];
  }

  async #runAll(deadline: number): Promise<string[]> {
    for (const step of [...this.#steps].reverse()) await this.#runStep(step, Math.max(LAST_CHANCE_MS, Math.min(step.timeoutMs, deadline - Date.now())));
    return this.pending();
  }

  async #runStep(step: Step, timeoutMs: number): Promise<void> {
    this.#running.add(step.name);
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), timeoutMs);
    });
    const finished = Promise.resolve()
      .then(step.run)
      .then(
        () => {
          this.#running.delete(step.name);
          return 'done' as const;
        },
        (error: unknown) => {
          this.#running.delete(step.name);
          this.#logger.warn({ step: step.name, err: error instanceof Error ? error.message : String(error) }, 'shutdown step failed');
          return 'failed' as const;
        },
      );
    try {
      if ((await Promise.race([finished, timedOut])) === 'timeout') {
        this.#logger.warn({ step: step.name, timeoutMs }, 'shutdown step did not finish in time; going on without it');
      }
    } finally {
      clearTimeout(timer);
    }
  }
}
