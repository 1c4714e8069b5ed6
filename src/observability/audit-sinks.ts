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

export function streamSink(store: StateStore, maxLen: number): AuditSink {
  return {
    name: 'stream',
    hint: 'check that the database server is reachable and accepts writes; events are in the log meanwhile',
    write: (event) => appendAuditEvent(store, event, maxLen),
  };
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
