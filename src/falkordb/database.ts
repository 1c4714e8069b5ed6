// The database handle the rest of the gateway talks to: raw commands on one
// FalkorDB server, whatever started or found it.

export type RespValue = string | number | null | RespValue[];

export interface CommandOptions {
  /** Return every RESP integer as a decimal string, so 64-bit values survive. */
  integersAsStrings?: boolean;
}

export interface Database {
  /** Where the database is, safe to show to an operator (no password). */
  readonly address: string;
  /** FalkorDB module version as `major.minor.patch`, read at connect time. */
  readonly moduleVersion: string;
  /** Sends one command; rejects with the server's error message on an error reply. */
  sendCommand(args: readonly string[], options?: CommandOptions): Promise<RespValue>;
  /** Round trip with a deadline; resolves with milliseconds taken, rejects when unreachable. */
  ping(timeoutMs: number): Promise<number>;
  /** True while the connection is open and ready for commands. */
  readonly isReady: boolean;
  close(): Promise<void>;
}
