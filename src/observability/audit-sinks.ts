// Where audit events go: the process log, an append-only JSON-lines file that
// logrotate can move away (reopen), and the shared stream in the database server.

import { open, type FileHandle } from 'node:fs/promises';
import type { StateStore } from '../state/store.js';
import type { AuditEvent } from './audit-event.js';
import { appendAuditEvent } from './audit-stream.js';
import type { Logger } from './logger.js';

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

/**
 * The shared stream. Events are held for at most STREAM_BATCH_WINDOW_MS and
 * then sent together (the client pipelines them into one write and one round
 * trip), so a tool call does not cost a database round trip of its own.
 * Each event's promise settles when its own XADD does.
 */
export class StreamSink implements AuditSink {
  readonly name = 'stream';
  readonly hint = 'check that the database server is reachable and accepts writes; events are in the log meanwhile';
  readonly #store: StateStore;
  readonly #maxLen: number;
  #queue: QueuedEvent[] = [];
  #timer: NodeJS.Timeout | undefined;

  constructor(store: StateStore, maxLen: number) {
    this.#store = store;
    this.#maxLen = maxLen;
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
    // Every XADD of the batch is issued in this tick, before any is awaited.
    for (const queued of batch) appendAuditEvent(this.#store, queued.event, this.#maxLen).then(queued.resolve, queued.reject);
  }

  close(): Promise<void> {
    this.flush();
    return Promise.resolve();
  }
}

export function streamSink(store: StateStore, maxLen: number): AuditSink {
  return new StreamSink(store, maxLen);
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
