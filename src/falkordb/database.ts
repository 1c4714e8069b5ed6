// The database handle the rest of the gateway talks to: raw commands on one
// FalkorDB server or cluster, whatever started or found it.

export type RespValue = string | number | null | RespValue[];

export interface CommandOptions {
  /** Return every RESP integer as a decimal string, so 64-bit values survive. */
  integersAsStrings?: boolean;
  /** Send a read a replica could serve to the primary anyway (FALKORDB_REPLICA_URLS); elsewhere there is only the primary. */
  primary?: boolean | undefined;
  /** A write the gateway can afford to lose in a failover (an instance's presence): never held to FALKORDB_SENTINEL_MIN_REPLICAS. */
  ephemeral?: boolean;
  /** Refuse (RESULT_TOO_LARGE) a reply bigger than this many bytes, before it is decoded; unlimited when absent. */
  maxReplyBytes?: number | undefined;
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
  /**
   * With read replicas (FALKORDB_REPLICA_URLS): false while the primary is unreachable, when
   * reads are served by the replicas and writes fail with PRIMARY_UNAVAILABLE. Absent elsewhere.
   */
  readonly primaryAvailable?: boolean;
  /** With read replicas: calls `listener(up)` each time the primary is lost (false) or back (true); returns the unsubscribe. */
  onPrimaryChange?(listener: (up: boolean) => void): () => void;
  /**
   * On a cluster: one handle per primary, for keyspace-wide reads (SCAN) that must
   * ask every shard. Absent where sendCommand already reaches the whole keyspace.
   */
  primaries?(): Promise<ReadonlyArray<Pick<Database, 'sendCommand'>>>;
}

export interface ScanOptions {
  /** SCAN MATCH glob; escape glob specials in literal parts. */
  match: string;
  /** SCAN TYPE, e.g. `graphdata` for graphs. */
  type?: string;
}

const SCAN_COUNT = '1000';

/**
 * Every key matching `options`, read with SCAN (so a big keyspace never blocks
 * the server): on a cluster from every primary at once, merged.
 */
export async function scanKeys(db: Pick<Database, 'sendCommand' | 'primaries'>, options: ScanOptions): Promise<string[]> {
  const nodes = db.primaries === undefined ? [db] : await db.primaries();
  const filter = ['MATCH', options.match, ...(options.type === undefined ? [] : ['TYPE', options.type]), 'COUNT', SCAN_COUNT];
  const keys = new Set<string>();
  await Promise.all(
    nodes.map(async (node) => {
      let cursor = '0';
      do {
        const reply = await node.sendCommand(['SCAN', cursor, ...filter]);
        const [next, batch] = Array.isArray(reply) ? reply : ['0', []];
        cursor = String(next);
        if (Array.isArray(batch)) for (const key of batch) keys.add(String(key));
      } while (cursor !== '0');
    }),
  );
  return [...keys];
}
