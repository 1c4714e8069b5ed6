// Where audit events go: the process log, an append-only JSON-lines file that
// logrotate can move away (reopen), and the shared stream in the database server.

import { open, type FileHandle } from 'node:fs/promises';
import { isGatewayError } from '../errors.js';
import type { StateStore } from '../state/store.js';
import type { AuditEvent } from './audit-event.js';
import { appendAuditEvent } from './audit-stream.js';
import type { Logger } from '../logger.js';

export interface AuditSink {
  /** Names the sink in failure reports and in `sinkFailures()`. */
  readonly name: string;
  /** What an operator should check when writing fails. */
  readonly hint: string;
  write(event: AuditEvent): Promise<void>;
  /** Starts writing, now, whatever the sink holds back to write together. */
  flush?(): void;
  /** Lets go of anything a log rotation moved away. */
  reopen?(): Promise<void>;
  close?(): Promise<void>;
}

export function logSink(logger: Logger): AuditSink {
  return {
    name: 'log',
    hint: 'check the process log output',
    write: (event) => {
      logger.info({ audit: event }, 'audit');
      return Promise.resolve();
    },
  };
}

/** Longest an event waits for others to share its write to the stream. */
export const STREAM_BATCH_WINDOW_MS = 5;
/** Events sent in one go at most; a full batch goes out at once. */
export const STREAM_BATCH_MAX = 256;

interface QueuedEvent {
  event: AuditEvent;
  resolve(): void;
  reject(error: unknown): void;
}

/** While events are held, a write of them is tried this often (and at once when the primary is back). */
export const HELD_RETRY_MS = 1_000;

export interface StreamSinkOptions {
  maxLen: number;
  /**
   * AUDIT_BUFFER_MAX: events held in memory while the database does not take
   * writes, written in order once it does; one more fails (and is counted).
   * 0 or absent: none is held.
   */
  bufferMax?: number | undefined;
  logger?: Logger;
}

function heldIsWorthIt(error: unknown): boolean {
  return isGatewayError(error) && (error.code === 'DATABASE_UNREACHABLE' || error.code === 'PRIMARY_UNAVAILABLE');
}

/**
 * The shared stream. Events are held for at most STREAM_BATCH_WINDOW_MS and
 * then sent together (the client pipelines them into one write and one round
 * trip), so a tool call does not cost a database round trip of its own.
 * Each event's promise settles when its own XADD does, or once it is held:
 * while the database does not take writes (its primary down), events wait in
 * memory, oldest first, up to AUDIT_BUFFER_MAX, and newer events queue behind
 * them, so the stream gets them in order once the database is back.
 */
export class StreamSink implements AuditSink {
  readonly name = 'stream';
  readonly hint = 'check that the database server is reachable and accepts writes; events are in the log meanwhile';
  readonly #store: StateStore;
  readonly #maxLen: number;
  readonly #bufferMax: number;
  readonly #logger: Logger | undefined;
  #queue: QueuedEvent[] = [];
  #timer: NodeJS.Timeout | undefined;
  #held: AuditEvent[] = [];
  #draining: Promise<void> | undefined;
  /** Held events the drain is sending now. */
  #sending = 0;
  #retry: NodeJS.Timeout | undefined;
  readonly #unsubscribe: (() => void) | undefined;

  constructor(store: StateStore, options: StreamSinkOptions) {
    this.#store = store;
    this.#maxLen = options.maxLen;
    this.#bufferMax = options.bufferMax ?? 0;
    this.#logger = options.logger;
    if (this.#bufferMax > 0) {
      this.#unsubscribe = store.database.onPrimaryChange?.((up) => {
        if (up) void this.#drain();
      });
    }
  }

  /** Events held in memory until the database takes writes again. */
  get held(): number {
    return this.#held.length + this.#sending;
  }

  write(event: AuditEvent): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.#queue.push({ event, resolve, reject });
      // Not unref'd: a queued event keeps the process up until it is written.
      if (this.#queue.length >= STREAM_BATCH_MAX) this.flush();
      else this.#timer ??= setTimeout(() => this.flush(), STREAM_BATCH_WINDOW_MS);
    });
  }

  flush(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    const batch = this.#queue;
    if (batch.length === 0) return;
    this.#queue = [];
    if (this.#held.length > 0 || this.#draining !== undefined) {
      // Behind the held ones, so the stream keeps the order.
      for (const queued of batch) this.#hold(queued);
      return;
    }
    // Every XADD of the batch is issued in this tick, before any is awaited.
    const sent = batch.map((queued) => appendAuditEvent(this.#store, queued.event, this.#maxLen));
    void Promise.allSettled(sent).then((results) => {
      results.forEach((result, i) => {
        const queued = batch[i]!;
        if (result.status === 'fulfilled') queued.resolve();
        else if (this.#bufferMax > 0 && heldIsWorthIt(result.reason)) this.#hold(queued);
        else queued.reject(result.reason);
      });
    });
  }

  async close(): Promise<void> {
    this.flush();
    this.#unsubscribe?.();
    clearTimeout(this.#retry);
    this.#retry = undefined;
    await this.#draining;
    await this.#drain(false);
    if (this.#held.length > 0) {
      this.#logger?.warn({ lost: this.#held.length }, 'audit events held while the database did not take writes are lost at shutdown (they are in the log and AUDIT_LOG_FILE)');
    }
  }

  #hold(queued: QueuedEvent): void {
    if (this.#held.length >= this.#bufferMax) {
      queued.reject(new Error(`the database does not take writes and AUDIT_BUFFER_MAX (${this.#bufferMax}) audit events are already held in memory; this one is dropped from the stream`));
      return;
    }
    if (this.#held.length === 0) {
      this.#logger?.warn({ bufferMax: this.#bufferMax }, 'audit events held in memory: the database does not take writes; they go to the stream in order once it does (beyond AUDIT_BUFFER_MAX they are dropped and counted)');
    }
    this.#held.push(queued.event);
    queued.resolve();
    this.#retry ??= setTimeout(() => {
      this.#retry = undefined;
      void this.#drain();
    }, HELD_RETRY_MS).unref();
  }

  /** Writes the held events in order, a batch at a time; stops at the first that fails (tried again later). */
  #drain(retryLater = true): Promise<void> {
    if (this.#draining !== undefined || this.#held.length === 0) return this.#draining ?? Promise.resolve();
    this.#draining = this.#drainNow(retryLater);
    return this.#draining;
  }

  async #drainNow(retryLater: boolean): Promise<void> {
    let written = 0;
    try {
      while (this.#held.length > 0) {
        // Out of the buffer while on its way, so events arriving meanwhile have room.
        const chunk = this.#held.splice(0, STREAM_BATCH_MAX);
        this.#sending = chunk.length;
        const results = await Promise.allSettled(chunk.map((event) => appendAuditEvent(this.#store, event, this.#maxLen)));
        this.#sending = 0;
        const failed = results.flatMap((result, i) => (result.status === 'rejected' ? [chunk[i]!] : []));
        written += chunk.length - failed.length;
        this.#held.unshift(...failed);
        if (failed.length > 0) break;
      }
    } finally {
      this.#draining = undefined;
    }
    if (written > 0) this.#logger?.info({ written, stillHeld: this.#held.length }, 'audit events held during the database outage written to the stream');
    if (this.#held.length > 0 && retryLater) {
      this.#retry ??= setTimeout(() => {
        this.#retry = undefined;
        void this.#drain();
      }, HELD_RETRY_MS).unref();
    }
    // Events that arrived during the drain were held behind it.
    if (this.#held.length === 0) this.flush();
  }
}

export function streamSink(store: StateStore, options: StreamSinkOptions): StreamSink {
  return new StreamSink(store, options);
}

/** Group-readable for a log shipper, writable by the gateway alone. */
const AUDIT_FILE_MODE = 0o640;

/**
 * AUDIT_LOG_FILE: one JSON object per line. Operations run one after another,
 * so lines never interleave and a reopen never races a write.
 */
export class AuditFileSink implements AuditSink {
  readonly name = 'file';
  readonly hint: string;
  readonly #path: string;
  #handle: FileHandle | undefined;
  #queue: Promise<unknown> = Promise.resolve();
  #closed = false;

  constructor(path: string) {
    this.#path = path;
    this.hint = `check that the folder of AUDIT_LOG_FILE (${path}) exists and that the gateway may write to the file`;
  }

  #serially<T>(operation: () => Promise<T>): Promise<T> {
    const run = this.#queue.then(operation);
    this.#queue = run.catch(() => undefined);
    return run;
  }

  async #open(): Promise<FileHandle> {
    if (this.#closed) throw new Error('the audit file is closed because the gateway is stopping');
    this.#handle ??= await open(this.#path, 'a', AUDIT_FILE_MODE);
    return this.#handle;
  }

  async #release(): Promise<void> {
    const handle = this.#handle;
    this.#handle = undefined;
    await handle?.close();
  }

  write(event: AuditEvent): Promise<void> {
    return this.#serially(async () => {
      await (await this.#open()).write(`${JSON.stringify(event)}\n`);
    });
  }

  /** Closes the file and opens the path again: after logrotate moved it, events go to a new file there. */
  reopen(): Promise<void> {
    return this.#serially(async () => {
      await this.#release();
      try {
        await this.#open();
      } catch (error) {
        throw new Error(`AUDIT_LOG_FILE ${this.#path} could not be reopened (${(error as NodeJS.ErrnoException).code ?? String(error)}); ${this.hint}.`);
      }
    });
  }

  close(): Promise<void> {
    return this.#serially(async () => {
      this.#closed = true;
      await this.#release();
    });
  }
}
