// A counting semaphore with a short, bounded FIFO queue: callers wait for a
// free slot in arrival order, and give up when the queue is full or time runs out.

/** Gives the slot back; calling it more than once is harmless. */
export type Release = () => void;

interface Waiter {
  grant: (release: Release) => void;
  timer: NodeJS.Timeout | undefined;
  /** Stops listening for the waiter's abort signal, once it is granted or gives up. */
  unlisten: (() => void) | undefined;
}

export class Semaphore {
  readonly limit: number;
  readonly maxQueue: number;
  #active = 0;
  // A plain array is enough: the queue is short by construction (maxQueue).
  readonly #queue: Waiter[] = [];

  /** `maxQueue`: how many may wait at once; more are refused at once. */
  constructor(limit: number, maxQueue: number) {
    if (!(limit >= 1)) throw new RangeError('A semaphore needs at least one slot.');
    this.limit = limit;
    this.maxQueue = Math.max(0, maxQueue);
  }

  get active(): number {
    return this.#active;
  }

  get waiting(): number {
    return this.#queue.length;
  }

  /** True when nobody holds or waits for a slot (the semaphore may be dropped). */
  get idle(): boolean {
    return this.#active === 0 && this.#queue.length === 0;
  }

  /**
   * A slot, waiting up to `timeoutMs` behind earlier callers; undefined when the
   * queue is full, the wait ran out, or `signal` aborted (its place in the queue is given up).
   */
  acquire(timeoutMs: number, signal?: AbortSignal): Promise<Release | undefined> {
    if (signal?.aborted === true) return Promise.resolve(undefined);
    // Someone already waiting goes first, even if a slot is free for a moment.
    if (this.#active < this.limit && this.#queue.length === 0) {
      this.#active++;
      return Promise.resolve(this.#releaser());
    }
    if (timeoutMs <= 0 || this.#queue.length >= this.maxQueue) return Promise.resolve(undefined);
    return new Promise((resolve) => {
      const waiter: Waiter = {
        grant: (release) => {
          waiter.unlisten?.();
          resolve(release);
        },
        timer: undefined,
        unlisten: undefined,
      };
      const giveUp = () => {
        clearTimeout(waiter.timer);
        waiter.unlisten?.();
        const at = this.#queue.indexOf(waiter);
        if (at >= 0) this.#queue.splice(at, 1);
        resolve(undefined);
      };
      waiter.timer = setTimeout(giveUp, timeoutMs);
      if (signal !== undefined) {
        signal.addEventListener('abort', giveUp, { once: true });
        waiter.unlisten = () => signal.removeEventListener('abort', giveUp);
      }
      this.#queue.push(waiter);
    });
  }

  #releaser(): Release {
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = this.#queue.shift();
      if (next === undefined) {
        this.#active--;
        return;
      }
      // The slot passes straight to the next waiter, so no newcomer can take it in between.
      clearTimeout(next.timer);
      next.grant(this.#releaser());
    };
  }
}
