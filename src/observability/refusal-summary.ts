// Keeps a flood of refused requests from filling the audit streams: per client
// address (and verified tenant) the first events of each minute are written one by
// one, the rest are counted and written as one `refusals_summarised` event.

import type { AuditFacts } from './audit-event.js';

export const REFUSAL_SUMMARY_WINDOW_MS = 60_000;
/** Addresses tracked in one window at most; past it, new addresses share one summary. */
const MAX_TRACKED = 10_000;
const OVERFLOW_KEY = '\u0000overflow';

interface Tally {
  tenant: string | undefined;
  clientIp: string | undefined;
  written: number;
  /** Refusals not written one by one, per error code. */
  held: Map<string, number>;
}

export class RefusalSummary {
  readonly #perWindow: number;
  readonly #emit: (facts: AuditFacts) => void;
  readonly #windowMs: number;
  #tallies = new Map<string, Tally>();
  #timer: NodeJS.Timeout | undefined;

  /** `emit` writes a summary event; it is called at the end of each window that held refusals back. */
  constructor(perWindow: number, emit: (facts: AuditFacts) => void, windowMs = REFUSAL_SUMMARY_WINDOW_MS) {
    this.#perWindow = perWindow;
    this.#emit = emit;
    this.#windowMs = windowMs;
  }

  /** Whether this refusal is written as its own event; false: it is counted in the window's summary. */
  admit(facts: AuditFacts): boolean {
    let key = `${facts.tenant ?? ''}\n${facts.clientIp ?? ''}`;
    if (!this.#tallies.has(key) && this.#tallies.size >= MAX_TRACKED) key = OVERFLOW_KEY;
    let tally = this.#tallies.get(key);
    if (tally === undefined) {
      tally = key === OVERFLOW_KEY
        ? { tenant: undefined, clientIp: undefined, written: this.#perWindow, held: new Map() }
        : { tenant: facts.tenant, clientIp: facts.clientIp, written: 0, held: new Map() };
      this.#tallies.set(key, tally);
    }
    // Not unref'd would keep a stopping process up for a minute; close() writes what is held.
    this.#timer ??= setInterval(() => this.summarise(), this.#windowMs).unref();
    if (tally.written < this.#perWindow) {
      tally.written += 1;
      return true;
    }
    const code = facts.errorCode ?? 'unknown';
    tally.held.set(code, (tally.held.get(code) ?? 0) + 1);
    return false;
  }

  /** Writes one summary per address that had refusals held back, and starts a new window. */
  summarise(): void {
    const tallies = this.#tallies;
    this.#tallies = new Map();
    if (tallies.size === 0) {
      clearInterval(this.#timer);
      this.#timer = undefined;
    }
    for (const tally of tallies.values()) {
      if (tally.held.size === 0) continue;
      const count = [...tally.held.values()].reduce((a, b) => a + b, 0);
      const codes = [...tally.held].sort(([a], [b]) => a.localeCompare(b));
      const [only] = codes.length === 1 ? codes : [];
      this.#emit({
        event: 'refusals_summarised',
        ...(tally.tenant === undefined ? {} : { tenant: tally.tenant }),
        ...(tally.clientIp === undefined ? {} : { clientIp: tally.clientIp }),
        ...(only === undefined ? {} : { errorCode: only[0] }),
        count,
        detail: `${count} refusals past the first ${this.#perWindow} of the minute: ${codes.map(([code, n]) => `${code}=${n}`).join(' ')}`,
      });
    }
  }

  close(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
    this.summarise();
    clearInterval(this.#timer);
    this.#timer = undefined;
  }
}
