// This instance's reader of the policy change stream (src/state/policy-changes.ts):
// one read every half second, whatever the number of tenants, that says which
// tenants and tokens changed since the last one, so the access policy can keep
// everything else in memory. `freshAt` says up to when that memory is known current.

import type { ChangeEntry } from '../state/policy-changes.js';

/** What a poll found changed; `all` when it cannot tell (first poll, entries trimmed, stream gone). */
export type PolicyChanges = { all: true } | { all: false; tenants: ReadonlySet<string>; jtis: ReadonlySet<string> };

export interface PolicyWatchOptions {
  /** The newest entry of the stream, if any. */
  newest: () => Promise<ChangeEntry | undefined>;
  /** Up to `count` entries from `from` on, `from` included while it is still there. */
  from: (from: string, count: number) => Promise<ChangeEntry[]>;
  /** Called, synchronously, with what each poll found before it counts as done. */
  onChanges: (changes: PolicyChanges) => void;
  now?: () => number;
  /** Time between the end of one poll and the start of the next; 0: only when `poll()` is called. */
  intervalMs: number;
  /** A poll this long after the last successful one starts over (the stream keeps entries for twice that). */
  resyncAfterMs: number;
  pageSize?: number;
}

// Before any entry: the stream was empty (or absent) at the last read.
const EMPTY = '0-0';

export class PolicyWatch {
  readonly #options: PolicyWatchOptions;
  readonly #now: () => number;
  readonly #pageSize: number;
  #lastId: string | undefined;
  #lastSuccess: number | undefined;
  #lastStart: number | undefined;
  #freshAt: number | undefined;
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<void> | undefined;
  #started = false;
  #closed = false;

  constructor(options: PolicyWatchOptions) {
    this.#options = options;
    this.#now = options.now ?? Date.now;
    this.#pageSize = options.pageSize ?? 1000;
  }

  /**
   * When the last successful poll started: every change written before then has been
   * passed to `onChanges`. Undefined until a poll has succeeded.
   */
  get freshAt(): number | undefined {
    return this.#freshAt;
  }

  /** Starts polling every `intervalMs` (once; later calls do nothing). */
  start(): void {
    if (this.#started || this.#closed || this.#options.intervalMs <= 0) return;
    this.#started = true;
    void this.#loop();
  }

  close(): void {
    this.#closed = true;
    clearTimeout(this.#timer);
  }

  /**
   * A poll now, for a caller that found the last one late, unless one started less
   * than a quarter interval ago (so failing polls are not repeated back to back).
   */
  hurry(): void {
    if (this.#lastStart !== undefined && this.#now() - this.#lastStart < this.#options.intervalMs / 4) return;
    void this.poll();
  }

  /** One poll (joined by callers while one runs); a failed poll leaves `freshAt` where it was. */
  poll(): Promise<void> {
    if (this.#running === undefined) this.#lastStart = this.#now();
    this.#running ??= this.#pollOnce()
      .catch(() => undefined)
      .finally(() => (this.#running = undefined));
    return this.#running;
  }

  // Start to start, so a slow read does not stretch the time between two.
  async #loop(): Promise<void> {
    const startedAt = this.#now();
    await this.poll();
    if (this.#closed) return;
    this.#timer = setTimeout(() => void this.#loop(), Math.max(0, startedAt + this.#options.intervalMs - this.#now()));
    this.#timer.unref();
  }

  async #pollOnce(): Promise<void> {
    const startedAt = this.#now();
    if (this.#lastSuccess !== undefined && startedAt - this.#lastSuccess > this.#options.resyncAfterMs) this.#lastId = undefined;
    if (this.#lastId === undefined) {
      const newest = await this.#options.newest();
      this.#options.onChanges({ all: true });
      this.#lastId = newest?.id ?? EMPTY;
    } else {
      await this.#readFrom(this.#lastId);
    }
    this.#lastSuccess = startedAt;
    this.#freshAt = startedAt;
  }

  async #readFrom(start: string): Promise<void> {
    let from = start;
    for (;;) {
      const page = await this.#options.from(from, this.#pageSize);
      // The entry read last time is still there unless the stream was trimmed past it or removed.
      const continuous = from === EMPTY || page[0]?.id === from;
      const fresh = from === EMPTY ? page : page.slice(1);
      if (!continuous || fresh.some((entry) => entry.change === undefined)) {
        this.#options.onChanges({ all: true });
      } else if (fresh.length > 0) {
        const tenants = new Set<string>();
        const jtis = new Set<string>();
        for (const { change } of fresh) {
          if (change !== undefined && 'tenant' in change) tenants.add(change.tenant);
          else if (change !== undefined) jtis.add(change.jti);
        }
        this.#options.onChanges({ all: false, tenants, jtis });
      }
      from = page.at(-1)?.id ?? EMPTY;
      this.#lastId = from;
      if (page.length < this.#pageSize) return;
    }
  }
}
