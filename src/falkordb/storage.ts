// How much room graphs take in FalkorDB, as GRAPH.MEMORY USAGE tells it. Redis's
// own MEMORY USAGE says 32 bytes for any graph, so it is no use here. Knows
// nothing of tenants; callers pass built keys.

import type { Database } from './database.js';
import { translateQueryError } from './query-errors.js';

export const MIB = 1024 * 1024;

/**
 * What one graph counts for: its `total_graph_sz_mb` (whole MiB, rounded down, so
 * a graph under 1 MiB says 0) plus 1 MiB, so that many small graphs add up too.
 * A key that is gone by the time it is measured counts nothing.
 */
export async function graphStorageBytes(db: Pick<Database, 'sendCommand'>, key: string): Promise<number> {
  let reply;
  try {
    reply = await db.sendCommand(['GRAPH.MEMORY', 'USAGE', key]);
  } catch (error) {
    if (/empty key/i.test(error instanceof Error ? error.message : String(error))) return 0;
    throw translateQueryError(error);
  }
  const fields = Array.isArray(reply) ? reply : [];
  const at = fields.indexOf('total_graph_sz_mb');
  const mib = at < 0 ? 0 : Number(fields[at + 1]);
  return ((Number.isFinite(mib) && mib > 0 ? Math.floor(mib) : 0) + 1) * MIB;
}

/** The storage of several graphs together (see graphStorageBytes), measured one after the other. */
export async function graphsStorageBytes(db: Pick<Database, 'sendCommand'>, keys: readonly string[]): Promise<number> {
  let total = 0;
  // One at a time: each measurement runs on the server's main thread, so a tenant with many graphs never queues a burst of them.
  for (const key of keys) total += await graphStorageBytes(db, key);
  return total;
}
