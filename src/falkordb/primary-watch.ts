// Whether the primary behind read replicas takes commands now: a circuit that opens
// at once when its connection drops or a command finds it unreachable, and on two
// health checks in a row without an answer (a primary that is connected but hung);
// it closes again when a background PING answers. While it is open, calls do not
// wait on the primary: reads go to the replicas and writes fail at once.

import { GatewayError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { Database } from './database.js';

// While the primary is up it is checked this often; a check that gets no answer within the timeout counts as a miss.
const HEALTH_INTERVAL_MS = 1_000;
const HEALTH_TIMEOUT_MS = 2_000;
// Misses in a row that open the circuit (one slow PING on a loaded machine must not).
const MISSES_TO_OPEN = 2;
// While it is down, it is checked after 250 ms, doubling to 2 s.
const FIRST_PROBE_MS = 250;
const MAX_PROBE_MS = 2_000;

/** The error every write gets while the primary is down. */
export function primaryUnavailable(address: string): GatewayError {
  return new GatewayError(
    'PRIMARY_UNAVAILABLE',
    'The primary database server is unreachable, so writes are refused until it is back; read-only calls are still served from the read replicas. Retry the write in a little while.',
    { address },
  );
}

export class PrimaryWatch {
  readonly #primary: Pick<Database, 'isReady' | 'ping' | 'address'>;
  readonly #logger: Logger;
  readonly #listeners = new Set<(up: boolean) => void>();
  #down = false;
  #misses = 0;
  #probeMs = FIRST_PROBE_MS;
  #timer: NodeJS.Timeout | undefined;
  #closed = false;
  #downSince: number | undefined;

  constructor(primary: Pick<Database, 'isReady' | 'ping' | 'address'>, logger: Logger) {
    this.#primary = primary;
    this.#logger = logger;
    this.#schedule(HEALTH_INTERVAL_MS);
  }

  /** True while the primary is believed to take commands; notices a dropped connection at once. */
  get available(): boolean {
    if (!this.#down && !this.#primary.isReady && !this.#closed) this.markDown('connection lost');
    return !this.#down;
  }

  /** Epoch ms the current outage began; undefined while the primary is up. */
  get downSince(): number | undefined {
    return this.#downSince;
  }

  /** Calls `listener(up)` on every change: false when the primary is lost, true when it is back. */
  onChange(listener: (up: boolean) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Opens the circuit (a command found the primary unreachable); a background PING closes it again. */
  markDown(reason: string): void {
    if (this.#down || this.#closed) return;
    this.#down = true;
    this.#downSince = Date.now();
    this.#misses = 0;
    this.#probeMs = FIRST_PROBE_MS;
    this.#logger.warn({ primary: this.#primary.address, reason }, 'primary database unreachable: read-only calls go to the read replicas, writes are refused until it is back');
    this.#notify(false);
    this.#schedule(this.#probeMs);
  }

  close(): void {
    this.#closed = true;
    clearTimeout(this.#timer);
    this.#listeners.clear();
  }

  #schedule(delay: number): void {
    clearTimeout(this.#timer);
    if (this.#closed) return;
    this.#timer = setTimeout(() => void this.#check(), delay).unref();
  }

  async #check(): Promise<void> {
    let answered = this.#primary.isReady;
    if (answered) answered = await this.#primary.ping(HEALTH_TIMEOUT_MS).then(() => true, () => false);
    if (this.#closed) return;
    if (!this.#down) {
      this.#misses = answered ? 0 : this.#misses + 1;
      if (this.#misses >= MISSES_TO_OPEN) this.markDown(`no answer to ${MISSES_TO_OPEN} health checks in a row (${HEALTH_TIMEOUT_MS} ms each)`);
      else this.#schedule(HEALTH_INTERVAL_MS);
      return;
    }
    if (!answered) {
      this.#probeMs = Math.min(this.#probeMs * 2, MAX_PROBE_MS);
      this.#schedule(this.#probeMs);
      return;
    }
    const downMs = Date.now() - (this.#downSince ?? Date.now());
    this.#down = false;
    this.#downSince = undefined;
    this.#logger.info({ primary: this.#primary.address, downMs }, 'primary database reachable again: writes are accepted');
    this.#notify(true);
    this.#schedule(HEALTH_INTERVAL_MS);
  }

  #notify(up: boolean): void {
    for (const listener of this.#listeners) {
      try {
        listener(up);
      } catch (error) {
        this.#logger.error({ err: error instanceof Error ? error.message : String(error) }, 'a listener of the primary\'s state failed');
      }
    }
  }
}
