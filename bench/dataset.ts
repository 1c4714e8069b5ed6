// The benchmark's data: 100,000 :P nodes with two :K edges each, split evenly
// over the tenants of a tier (1 tenant: one 100k-node graph; 1,000 tenants: 100
// nodes each; 10,000 tenants: 10 each), same labels, index and queries.

import { FalkorDB } from 'falkordb';
import { tenantGraphKey } from '../src/tenancy/keys.js';

export const TOTAL_NODES = 100_000;
/** Every tenant's graph has this name; the gateway maps it under the tenant's prefix. */
export const GRAPH_NAME = 'social';
const BATCH = 10_000;

export function tenantName(tenants: number, index: number): string {
  return tenants === 1 ? 'bench-main' : `t${String(index).padStart(5, '0')}`;
}

export function nodesPerGraph(tenants: number): number {
  return Math.floor(TOTAL_NODES / tenants);
}

/** The key the gateway uses for tenant `index`'s graph; the direct client and the official server use it as is. */
export function graphKey(tenants: number, index: number): string {
  return tenantGraphKey(tenantName(tenants, index), GRAPH_NAME);
}

// Edges pick their ends by position in one collected list: index lookups per edge
// would take 30 times as long, and FalkorDB plans `WHERE id(b) = …` here as a label scan.
// The second end is never the node itself nor the first end, so every node has two neighbours.
const EDGES_FROM =
  'WITH collect(p) AS ps UNWIND range($from, $to) AS i ' +
  'WITH ps[i] AS a, ps[(i + 1) % size(ps)] AS b, ps[(i + 2 + (i * 7919 + 13) % (size(ps) - 2)) % size(ps)] AS c ' +
  'CREATE (a)-[:K]->(b), (a)-[:K]->(c)';

async function createGraph(db: FalkorDB, key: string, n: number): Promise<void> {
  const graph = db.selectGraph(key);
  // The index first, so that it is complete (not still being built) when the first query comes.
  await graph.query('CREATE INDEX FOR (p:P) ON (p.id)');
  if (n <= BATCH) {
    await graph.query(`UNWIND range(0, $last) AS id CREATE (p:P {id: id, v: 0}) ${EDGES_FROM}`, { params: { last: n - 1, from: 0, to: n - 1 } });
    return;
  }
  for (let from = 0; from < n; from += BATCH) {
    await graph.query('UNWIND range($from, $to) AS id CREATE (:P {id: id, v: 0})', { params: { from, to: Math.min(n, from + BATCH) - 1 } });
  }
  for (let from = 0; from < n; from += BATCH) {
    await graph.query(`MATCH (p:P) ${EDGES_FROM}`, { params: { from, to: Math.min(n, from + BATCH) - 1 } });
  }
}

/** Runs `work` over `items` on `lanes` clients at once (one connection each: FalkorDB runs one query per connection at a time). */
async function onLanes<T>(url: string, lanes: number, items: readonly T[], work: (db: FalkorDB, item: T) => Promise<void>): Promise<void> {
  const clients = await Promise.all(Array.from({ length: Math.min(lanes, items.length) }, () => FalkorDB.connect({ url })));
  let next = 0;
  try {
    await Promise.all(clients.map(async (db) => {
      while (next < items.length) await work(db, items[next++]!);
    }));
  } finally {
    await Promise.all(clients.map((db) => db.close()));
  }
}

/** Creates the graphs of a tier (and returns their keys); the tier of one tenant is the 100k-node graph. */
export async function createTier(url: string, tenants: number): Promise<string[]> {
  const keys = Array.from({ length: tenants }, (_, i) => graphKey(tenants, i));
  const n = nodesPerGraph(tenants);
  await onLanes(url, 8, keys, (db, key) => createGraph(db, key, n));
  return keys;
}

export async function deleteGraphs(url: string, keys: readonly string[]): Promise<void> {
  await onLanes(url, 8, keys, async (db, key) => {
    await db.selectGraph(key).delete();
  });
}
